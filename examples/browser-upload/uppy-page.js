// Uppy's own S3 uploader against stowage's directUpload(): no Companion server.
// Bundled for the page by app.ts (esbuild); in your app, your bundler does it.
import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';

const MiB = 1024 * 1024;
const base = '/direct'; // where directUpload() is mounted
const mode = new URLSearchParams(location.search).get('mode') ?? 'auto';
const uppy = new Uppy({ autoProceed: false });

if (mode === 'put') {
  // Stores without POST (R2, B2): one presigned PUT, its size and type signed. Uppy's
  // signRequest mode; generateObjectKey hands the file's id through so its size can be sent.
  uppy.use(AwsS3, {
    shouldUseMultipart: false,
    generateObjectKey: (file) => file.id,
    signRequest: async (request) => {
      const file = uppy.getFile(request.key);
      const query = new URLSearchParams({ filename: file.name, type: request.contentType, size: file.size });
      const res = await fetch(`${base}/s3/params?${query}`);
      if (!res.ok) throw new Error(`presign refused: ${(await res.json()).error?.message}`);
      return res.json(); // { url, headers, key } for a PUT, { url, fields } for a POST
    },
  });
} else {
  // Companion's S3 routes, served by directUpload(): parts signed one by one, resumable.
  uppy.use(AwsS3, {
    companionEndpoint: base,
    shouldUseMultipart: (file) => file.size > 5 * MiB,
    ...(mode === 'big-parts' ? { getChunkSize: () => 8 * MiB } : {}),
  });
}

// Resume after a reload: remember each multipart upload by file name and size; when the same
// file is chosen again, hand the upload back to Uppy, which lists the parts already sent and
// sends only the rest.
const resumeKey = (file) => `stowage-upload:${file.name}:${file.size}`;
uppy.on('file-added', (file) => {
  const saved = localStorage.getItem(resumeKey(file));
  if (saved) uppy.setFileState(file.id, { s3Multipart: JSON.parse(saved) });
});
uppy.on('s3-multipart:part-uploaded', (file) => {
  const state = uppy.getFile(file.id)?.s3Multipart;
  if (state) localStorage.setItem(resumeKey(file), JSON.stringify(state));
});

const status = document.getElementById('status');
const show = (value) => {
  status.textContent = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
};

// Uploaded to the staging prefix: confirm checks size, type (magic bytes) and publishes it.
uppy.on('upload-success', async (file, response) => {
  localStorage.removeItem(resumeKey(file));
  const res = await fetch(`${base}/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ uploadKey: response.body.key, filename: file.name }),
  });
  const body = await res.json();
  show(res.ok ? body.file : `refused: ${body.error.code}: ${body.error.message}`);
});
uppy.on('upload-error', (_file, err) => show(`error: ${err.message}`));
uppy.on('upload-progress', (_file, progress) => {
  const percent = Math.floor((100 * progress.bytesUploaded) / progress.bytesTotal);
  document.getElementById('progress').value = percent;
  show(`uploading… ${percent}%`);
});

document.getElementById('file').addEventListener('change', (event) => {
  uppy.cancelAll();
  for (const file of event.target.files) uppy.addFile({ name: file.name, type: file.type, data: file });
  show(`ready: ${event.target.files[0]?.name}`);
});
document.getElementById('start').addEventListener('click', () => {
  show('uploading…');
  uppy.upload();
});
document.getElementById('cancel').addEventListener('click', () => {
  uppy.cancelAll();
  show('cancelled');
});
window.uppy = uppy;
