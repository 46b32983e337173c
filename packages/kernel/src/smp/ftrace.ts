import type { SmpCodeContext } from './code-context.js';
import { MOD_CODE_WRITE_FLAG } from './layout.js';

/**
 * ftrace's plumbing: `ftrace_caller`, what a patched-in `call` at an mcount site reaches
 * (it counts the call per CPU: 3.3's function tracer keeps its state and ring buffer per CPU,
 * `tr->data[cpu]`, and touches no line the other CPUs write).
 */
export function emitFtraceCaller(ctx: SmpCodeContext): void {
  const { a } = ctx;
  a.align(16);
  a.label('ftrace_caller');
  ctx.countTraced();
  a.ret();
}

/**
 * 3.3 ftrace's NMI protocol, the writer's side: `ftrace_mod_code_entry` (`do_ftrace_mod_code`
 * for the patch-table entry in `ax`) publishes the entry, sets MOD_CODE_WRITE_FLAG once no
 * NMI is running, writes with `probe_kernel_write_entry` (`ftrace_mod_code`), clears the
 * flag and waits for NMIs that joined in; an NMI that arrives meanwhile does the same write
 * itself (see the NMI handler). The `sync_core()` after it is `ftrace_modify_code()`'s, the
 * caller's. Needs `probe_kernel_write_entry`.
 */
export function emitFtraceModCode(ctx: SmpCodeContext): void {
  const { a, isa } = ctx;

  // ftrace_mod_code(): write mod_code_newcode to mod_code_ip (the patcher or an NMI).
  a.label('ftrace_mod_code');
  a.push(isa.ax);
  a.mov(isa.ax, ctx.v('modCodeNew'));
  a.call('probe_kernel_write_entry');
  a.pop(isa.ax).ret();

  a.label('ftrace_mod_code_entry');
  a.push(isa.ax).push(isa.dx);
  a.mov(ctx.v('modCodeNew'), isa.ax);
  // A patch-table entry starts with the site's address.
  a.mov(isa.dx, isa.word(isa.ax, 0)).mov(ctx.v('modCodeIp'), isa.dx);
  // wait_for_nmi_and_set_mod_flag(): nmi_running 0 -> WRITE_FLAG
  const waitSet = ctx.local('mod_wait');
  const go = ctx.local('mod_go');
  a.label(waitSet);
  a.xor(isa.eax, isa.eax).mov(isa.edx, MOD_CODE_WRITE_FLAG);
  a.lock().cmpxchg(ctx.vd('nmiRunning'), isa.edx).je(go);
  ctx.relax().jmp(waitSet);
  a.label(go);
  a.call('ftrace_mod_code');
  // clear_mod_flag(), then wait_for_nmi()
  a.lock().and(ctx.vd('nmiRunning'), 0x7fffffff);
  ctx.spinWhileSet(ctx.vd('nmiRunning'), 'mod_wait_nmi', 'mod_done');
  a.pop(isa.dx).pop(isa.ax).ret();
}
