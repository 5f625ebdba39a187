/**
 * After the run: how many tests were skipped and why (the reason is the "[skipped: ...]" part of
 * a name made by test/support/skip.ts), so that a green run never hides what it did not test.
 */
class SkipReporter {
  onRunComplete(_contexts, results) {
    const reasons = new Map();
    let skipped = 0;
    for (const file of results.testResults) {
      for (const t of file.testResults) {
        if (t.status !== 'pending' && t.status !== 'skipped' && t.status !== 'todo') continue;
        skipped++;
        const match = /\[skipped: ([^\]]+)\]/.exec([...t.ancestorTitles, t.title].join(' '));
        const reason = match ? match[1] : 'no reason in the name (filtered out by -t, or skipped by hand)';
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
    }
    if (skipped === 0) {
      process.stderr.write('Skipped tests: none\n');
      return;
    }
    process.stderr.write(`Skipped tests: ${skipped}\n`);
    for (const [reason, count] of [...reasons].sort((a, b) => b[1] - a[1])) process.stderr.write(`  ${count} × ${reason}\n`);
  }
}
module.exports = SkipReporter;
