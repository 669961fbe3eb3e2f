// Docker's `--label k=v` (or `k` alone, an empty value) as a label map.
export function labelsOf(flags: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const f of flags) {
    const eq = f.indexOf('=');
    labels[eq < 0 ? f : f.slice(0, eq)] = eq < 0 ? '' : f.slice(eq + 1);
  }
  return labels;
}
