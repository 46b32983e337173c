import { DataArea } from './data-area.js';
import type { Isa } from './isa.js';
import type { Layout } from './layout.js';
import { KPROBE, KPROBE_SLOTS } from './code/kprobes.js';
import { NMI_TABLE_SLOTS } from './code/nmi-chain.js';
import { TASK } from './code/show-state.js';

/** Most tasks the task table holds. */
export const MAX_TASKS = 64;
/** Most exception-table entries. */
export const MAX_EXTABLE = 16;

const STRINGS: Readonly<Record<string, string>> = {
  hex_digits: '0123456789abcdef',
  str_empty: '',
  str_task: '  task ',
  str_pid: ' pid ',
  str_frame: '    [<',
  str_frame_end: '>]\n',
  str_bad_frame: '    <bad frame>\n',
  str_show_state: 'SysRq : Show State\n',
  str_show_state_end: '-- end of task list --\n',
  str_lockup: 'Watchdog detected hard LOCKUP on cpu ',
  str_oops: 'BUG: ',
  str_rip: '\n RIP: ',
  str_pf: 'unable to handle kernel paging request at ',
  str_gp: 'general protection fault',
  str_ud: 'invalid opcode',
  str_df: 'double fault',
  str_db: 'unexpected debug trap',
  str_int3: 'int3 without a kprobe',
};

/** Size of an x86_64 IDT of 256 16-byte gates. */
export const NMI_IDT_BYTES = 256 * 16;

/** Lays out the data area every kernel has: strings, task table, NMI and kprobe tables, exception table. */
export function layoutKernelData(isa: Isa, layout: Layout, taskNames: readonly string[]): DataArea {
  const data = new DataArea(layout.data, layout.dataSize);
  for (const [name, text] of Object.entries(STRINGS)) data.string(name, text);
  const w = isa.w;
  data.zeros('nr_tasks', w);
  data.zeros('task_table', MAX_TASKS * w);
  taskNames.forEach((name, i) => {
    data.zeros(`task_${String(i)}`, TASK.words * w);
    data.string(`task_name_${String(i)}`, name);
  });
  data.zeros('nmi_desc_local', (1 + NMI_TABLE_SLOTS) * w);
  data.zeros('nmi_desc_unknown', (1 + NMI_TABLE_SLOTS) * w);
  data.zeros('int3_chain', (1 + NMI_TABLE_SLOTS) * w);
  data.zeros('kprobe_table', (1 + KPROBE_SLOTS * KPROBE.words) * w);
  data.zeros('ex_table', (1 + 2 * MAX_EXTABLE) * w);
  // IDT pseudo-descriptors (limit, base) for lidt: the normal IDT and 3.3's NMI IDT.
  // Virtual address of the reference (init_mm) pgd, for vmalloc_fault.
  data.zeros('init_pgd', w);
  data.zeros('idt_descr', 16);
  data.zeros('nmi_idt_descr', 16);
  // 3.3's nmi_idt_table (x86_64): idt_table's copy with #DB/#BP on the current stack.
  if (isa.bits === 64) data.zeros('nmi_idt_table', NMI_IDT_BYTES, 4096);
  return data;
}
