/** A count for people: 100000 reads "100,000" in every front. */
export const formatCount = (n: number): string => Math.round(n).toLocaleString('en-US');
