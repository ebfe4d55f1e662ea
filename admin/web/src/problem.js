// problemDetail reads the human message from an error answer: the server's
// problem+json has "detail" (or at least "title"); anything else falls back
// to the status line.
export async function problemDetail(res) {
  try {
    const body = await res.json();
    if (body && (body.detail || body.title)) return String(body.detail || body.title);
  } catch {
    // not JSON
  }
  return `${res.status} ${res.statusText}`.trim();
}
