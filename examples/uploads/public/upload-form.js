// The upload() form, sent with fetch so that a refused file (not an image, too big) is explained
// in the page. Without JavaScript the form still posts: the server sends the browser back here
// with the reason in ?error=.
const form = document.getElementById('upload-form');
const status = document.getElementById('upload-status');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  status.className = '';
  status.textContent = 'uploading…';
  try {
    const res = await fetch(form.action, {
      method: 'POST',
      body: new FormData(form),
      headers: { accept: 'application/json' },
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error?.message ?? `HTTP ${res.status}`);
    location.assign('/');
  } catch (err) {
    status.className = 'error';
    status.textContent = `Not uploaded: ${err.message}`;
  }
});
