// "Did you mean ...?" for a misspelt key, module or value: the closest known word by edit distance.

/** The closest known word within `max` edits (case-insensitive), for "did you mean". */
export function didYouMean(word: string, known: readonly string[], max = 2): string | undefined {
  let best: string | undefined;
  let bestD = max + 1;
  for (const k of known) {
    // The distance is at least the difference in length: most words are ruled out without the table.
    if (Math.abs(word.length - k.length) >= bestD) continue;
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestD) (best = k), (bestD = d);
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return dp[a.length][b.length];
}
