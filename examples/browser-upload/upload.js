// Browser side of stowage's directUpload(): presign, send the file to the storage backend, confirm.

async function postJson(url, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const data = await res.json();
  if (!res.ok) throw new Error(`${data.error?.code}: ${data.error?.message}`);
  return data;
}

async function sha256Hex(file) {
  // Reads the whole file: fine for a demo; skip the sha256 for multi-GB files.
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Uploads one File through directUpload mounted at `base`; resolves to the confirmed file. */
export async function directUploadFile(file, base = '/direct') {
  const grant = await postJson(`${base}/presign`, { size: file.size, contentType: file.type || undefined });
  const { upload } = grant;
  let sent;
  if (upload.method === 'POST') {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    // S3 policies with a content-type prefix expect the type as a field before the file.
    if (!('Content-Type' in upload.fields) && file.type) form.append('Content-Type', file.type);
    form.append(upload.fileField, file);
    sent = await fetch(upload.url, { method: 'POST', body: form });
  } else {
    sent = await fetch(upload.url, { method: upload.method, headers: upload.headers, body: file });
  }
  if (!sent.ok) throw new Error(`the storage refused the upload (HTTP ${sent.status})`);
  const { file: stored } = await postJson(`${base}/confirm`, {
    uploadKey: grant.uploadKey,
    sha256: await sha256Hex(file),
    filename: file.name,
  });
  return stored;
}

function show(id, value) {
  document.getElementById(id).textContent =
    typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

document.getElementById('direct-send').addEventListener('click', async () => {
  const file = document.getElementById('direct-file').files[0];
  if (!file) return show('direct-result', 'choose a file first');
  show('direct-result', 'uploading…');
  try {
    show('direct-result', await directUploadFile(file));
  } catch (err) {
    show('direct-result', `error: ${err.message}`);
  }
});

document.getElementById('classic').addEventListener('submit', async (event) => {
  event.preventDefault();
  show('classic-result', 'uploading…');
  const res = await fetch('/upload', { method: 'POST', body: new FormData(event.target) });
  show('classic-result', await res.json());
});
