// Browser side of directUpload(): ask for a grant, send the file to storage, confirm.
async function postJson(url, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const data = await res.json();
  if (!res.ok) throw new Error(data.error?.message ?? `HTTP ${res.status}`);
  return data;
}

async function sha256Hex(file) {
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function send(file) {
  const grant = await postJson('/direct/presign', { size: file.size, contentType: file.type || undefined });
  const { upload } = grant;
  let sent;
  if (upload.method === 'POST') {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    if (!('Content-Type' in upload.fields) && file.type) form.append('Content-Type', file.type);
    form.append(upload.fileField, file);
    sent = await fetch(upload.url, { method: 'POST', body: form });
  } else {
    sent = await fetch(upload.url, { method: upload.method, headers: upload.headers, body: file });
  }
  if (!sent.ok) throw new Error(`storage refused the upload (HTTP ${sent.status})`);
  return postJson('/direct/confirm', {
    uploadKey: grant.uploadKey,
    sha256: await sha256Hex(file),
    filename: file.name,
  });
}

const status = document.getElementById('direct-status');
document.getElementById('direct-send').addEventListener('click', async () => {
  const file = document.getElementById('direct-file').files[0];
  if (!file) {
    status.textContent = 'choose a file first';
    return;
  }
  status.textContent = 'uploading…';
  try {
    await send(file);
    location.reload();
  } catch (err) {
    status.textContent = `error: ${err.message}`;
  }
});
