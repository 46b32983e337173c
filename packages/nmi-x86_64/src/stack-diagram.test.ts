import { describe, expect, it } from 'vitest';
import { renderStackSvg, renderStackText, stackDiagrams } from './stack-diagram.js';
import { runScenario } from './scenarios.js';
import { nestedSlotRole } from './stack-layout.js';

describe('stack diagrams from live machine state', () => {
  const r = runScenario('watchdog-dump', { entry: 'nested' });
  const diagrams = stackDiagrams(r);

  it('shows the nested NMI being caught, in order', () => {
    expect(diagrams.map((d) => d.caption)).toHaveLength(5);
    const copiedRip = (i: number): string | undefined => diagrams[i]?.slots.find((s) => s.role.region === 'copied frame' && s.role.field === 'RIP')?.symbol;
    const variable = (i: number): bigint | undefined => diagrams[i]?.slots.find((s) => s.role.region === 'NMI executing')?.value;
    // First NMI set up; the nested one redirects the copied frame to repeat_nmi; repeat_nmi restores it.
    expect(copiedRip(0)).toMatch(/^kthread_lockup/);
    expect(copiedRip(2)).toBe('repeat_nmi');
    expect(copiedRip(4)).toMatch(/^kthread_lockup/);
    expect(variable(0)).toBe(1n);
    expect(variable(4)).toBe(1n);
    // The nested NMI's hardware frame replaced the original one (which the saved frame still holds).
    const hwRip = diagrams[1]?.slots.find((s) => s.role.region === 'hardware frame' && s.role.field === 'RIP');
    expect(hwRip?.changed).toBe(true);
    expect(hwRip?.symbol).not.toMatch(/^kthread_lockup/);
  });

  it('labels every slot of the 3.3 layout', () => {
    expect(nestedSlotRole(8)).toEqual({ region: 'hardware frame', field: 'SS' });
    expect(nestedSlotRole(48)).toEqual({ region: 'rdx temp', field: 'rdx' });
    expect(nestedSlotRole(56)).toEqual({ region: 'NMI executing', field: 'variable' });
    expect(nestedSlotRole(96)).toEqual({ region: 'saved frame', field: 'RIP' });
    expect(nestedSlotRole(136)).toEqual({ region: 'copied frame', field: 'RIP' });
    expect(nestedSlotRole(144)).toEqual({ region: 'pt_regs', field: 'orig_ax' });
  });

  it('renders text and escaped SVG', () => {
    const text = renderStackText(diagrams[2]!);
    expect(text).toContain('copied frame RIP');
    expect(text).toContain('<repeat_nmi>');
    const svg = renderStackSvg(diagrams);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).not.toMatch(/<kthread|<repeat_nmi>/);
    expect(svg).toContain('repeat_nmi');
  });
});
