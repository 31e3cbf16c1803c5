/**
 * Messages built around text from elsewhere (a vendor's message, an inner error's) without
 * doubling its full stop: "…: The API key you provided is invalid." then "Check TELNYX_API_KEY."
 * makes one stop, not two. The one place that knows how such text ends.
 */

/**
 * `text` without the full stops (and spaces) that end it, to stand inside a longer sentence
 * ("a: …; b: …").
 */
export function withoutFullStop(text: string): string {
  return text.replace(/[\s.]+$/, '');
}

/**
 * `first` ended as a sentence, then `next` after a space. A "?", "!" or "…" that ends `first` is
 * kept (a full stop after it dropped); otherwise it ends with exactly one full stop ("..." becomes
 * "."). With no `next`, just the ended `first`; with nothing in `first` but stops, just `next`.
 */
export function joinSentences(first: string, next = ''): string {
  const clause = withoutFullStop(first);
  if (!clause) return next;
  const ended = /[?!…]$/.test(clause) ? clause : `${clause}.`;
  return next ? `${ended} ${next}` : ended;
}
