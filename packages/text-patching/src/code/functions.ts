import { STAT, emitFtraceCaller, emitKprobePreHandler } from '@kernsim/kernel/smp';
import type { SmpCodeContext } from '@kernsim/kernel/smp';
import { NOP5 } from '../forms.js';

export type UserKind = 'ftrace' | 'static-key' | 'kprobe';

/**
 * The kernel functions the users patch, `count` of them, each with its site:
 *  - ftrace: `push %rbp; mov %rsp,%rbp; nopl 0x0(%rax,%rax,1); mov <var>,%rax; pop %rbp; ret` —
 *    the article's listing, the nop being the mcount site;
 *  - static-key: the jump-label nop guarding an unlikely branch (netfilter's hook);
 *  - kprobe: a plain function whose first instruction gets probed (every fourth one with a
 *    jump too early for the probe to be optimized).
 * Symbols: `<prefix>_<i>` for the functions, `<prefix>_<i>_site` for each site, and
 * `<prefix>_<i>_on` for a static key's branch target.
 */
export function emitFunctions(ctx: SmpCodeContext, user: UserKind, count: number): void {
  const { a, isa } = ctx;
  for (let i = 0; i < count; i++) {
    a.align(16);
    const name = functionName(user, i);
    a.label(name);
    switch (user) {
      case 'ftrace':
        a.push(isa.bp).mov(isa.bp, isa.sp);
        a.label(`${name}_site`).db(...NOP5);
        a.mov(isa.ax, ctx.v('scratch'));
        a.pop(isa.bp).ret();
        break;
      case 'static-key': {
        const out = ctx.local('sk_out');
        a.push(isa.bp).mov(isa.bp, isa.sp);
        a.label(`${name}_site`).db(...NOP5);
        a.label(out).pop(isa.bp).ret();
        a.label(`${name}_on`);
        ctx.countTraced();
        a.jmp(out);
        break;
      }
      case 'kprobe':
        a.label(`${name}_site`);
        a.push(isa.bp).mov(isa.bp, isa.sp);
        if (i % 4 === 3) {
          // A jump 4 bytes in: no run of whole instructions covers the 5 bytes a jmp rel32
          // needs, so this probe cannot be optimized and stays an int3.
          const body = ctx.local('kp_body');
          a.jmp(body);
          a.label(body);
        }
        ctx.countStat(STAT.calls);
        a.pop(isa.bp).ret();
        break;
    }
  }
  // The users' kernel ends of the calls: ftrace's tracer and the probes' pre-handler.
  emitFtraceCaller(ctx);
  emitKprobePreHandler(ctx);
  // The function table the workloads call through.
  a.align(8);
  a.label('fn_table');
  for (let i = 0; i < count; i++) {
    if (isa.bits === 64) a.dq(functionName(user, i));
    else a.dd(functionName(user, i));
  }
}

export function functionName(user: UserKind, i: number): string {
  const prefix = user === 'ftrace' ? 'traced_fn' : user === 'static-key' ? 'nf_hook' : 'probed_fn';
  return `${prefix}_${String(i)}`;
}
