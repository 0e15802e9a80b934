/** Saves a blob as a file through the browser's download flow (no server involved). */
export function downloadBlob(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // Revoking at once can cancel the download in some browsers; a minute is plenty.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Saves text as a file through the browser's download flow. */
export function downloadText(name: string, text: string, type: string): void {
  downloadBlob(name, new Blob([text], { type }));
}

/** "attention-results-2026-11-22T14-05-09" : sortable, and legal in every file system. */
export function timestampedName(prefix: string, ext: string, date = new Date()): string {
  return `${prefix}-${date.toISOString().slice(0, 19).replaceAll(':', '-')}.${ext}`;
}
