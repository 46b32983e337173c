import { describe, expect, it } from 'vitest';
import { bootKernel } from '../boot.js';
import { minimalEntry } from '../test-support.js';

const ARCHES = ['x86_64', 'i386'] as const;

describe('show_state from the hard-lockup watchdog', () => {
  for (const arch of ARCHES) {
    const w = arch === 'x86_64' ? 8 : 4;
    it(`${arch}: prints the lockup line, then each task with its pid and its call trace read from its stack, then the footer`, () => {
      const k = bootKernel({
        arch,
        entry: minimalEntry(arch),
        cpus: [{ program: { kind: 'kernel-lockup' }, lockedUp: true }],
        sleepers: [{ name: 'init' }, { name: 'broken', badFrame: true }],
        serialCyclesPerByte: 1,
      });
      k.machine.run({ steps: 50 });
      k.raisePmuNmi(0, 'watchdog');
      k.machine.run({ steps: 30000 });
      const lines = k.machine.console.split('\n');
      // Return addresses are written at boot two bytes into these functions (i386 starts tasks directly: the kernel text start).
      const at = (s: string): bigint => k.image.symbols.get(s) ?? k.image.layout.text;
      const ret = (s: string): string => `    [<${(at(s) + 2n).toString(16).padStart(w * 2, '0')}>]`;
      // The running task's stack is live (on i386 the NMI itself runs on it): only its shape is fixed.
      const running = lines.indexOf('  task init pid 2');
      expect(lines.slice(0, 3)).toEqual(['Watchdog detected hard LOCKUP on cpu 0', 'SysRq : Show State', '  task lockup/0 pid 1']);
      for (const l of lines.slice(3, running)) expect(l).toMatch(/^ {4}(\[<[0-9a-f]+>\]|<bad frame>)$/);
      if (arch === 'x86_64') expect(lines.slice(3, running)).toEqual([ret('kthread_loop'), ret('kthread_work'), ret('cpu_startup')]);
      expect(lines.slice(running)).toEqual([
        '  task init pid 2',
        ret('kthread_loop'),
        ret('kthread_work'),
        ret('cpu_startup'),
        '  task broken pid 3',
        ret('kthread_loop'),
        ret('kthread_work'),
        '    <bad frame>',
        '-- end of task list --',
        '',
      ]);
      expect(k.readPercpu(0, 'lockups')).toBe(1n);
    });

    it(`${arch}: a watchdog NMI on a CPU whose timer still ticks prints nothing`, () => {
      const k = bootKernel({ arch, entry: minimalEntry(arch), cpus: [{ program: { kind: 'kernel-loop' }, lockedUp: false }], serialCyclesPerByte: 1 });
      k.machine.run({ steps: 50 });
      k.raisePmuNmi(0, 'watchdog');
      k.machine.run({ steps: 3000 });
      expect(k.machine.console).toBe('');
      expect(k.readPercpu(0, 'nmiNormal')).toBe(1n);
    });
  }
});
