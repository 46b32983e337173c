import type { Section } from './section.js';

/** The opening of the tour: what the page says and where each part of it lives. */
export const aboutSection: Section = {
  id: 'about',
  title: 'kernsim: the LWN kernel page of March 2012, running',
  summary: 'what kernsim models and which command shows each part',
  options: [],
  run() {
    const parts = [
      { part: 'The x86 NMI iret problem', packages: '@kernsim/cpu-core, @kernsim/nmi-x86_64, @kernsim/nmi-i386', command: 'kernsim cpu, kernsim nmi' },
      { part: 'Removing stop_machine (breakpoint patching)', packages: '@kernsim/text-patching', command: 'kernsim patch' },
      { part: 'Two approaches to kernel memory accounting', packages: '@kernsim/memcg-accounting', command: 'kernsim memcg' },
      { part: 'Statistics for the 3.3 development cycle', packages: '@kernsim/dev-stats', command: 'kernsim stats' },
    ];
    return {
      id: 'about',
      title: this.title,
      blocks: [
        {
          kind: 'paragraph',
          text:
            'The page (3.3-rc6, March 2012) explains why an NMI handler on x86 must not take a page fault or hit a ' +
            'breakpoint before Linux 3.3, how 3.3 fixed it, why live code patching with breakpoints needed that fix, ' +
            'how two patch sets proposed to account kernel memory to control groups, and who wrote 3.3. kernsim ' +
            'runs each of those on a simulated machine or on real data.',
        },
        {
          kind: 'table',
          title: 'Where each part of the page lives',
          columns: [{ header: 'Part of the page' }, { header: 'Packages' }, { header: 'Command' }],
          rows: parts.map((p) => [p.part, p.packages, p.command]),
        },
        {
          kind: 'paragraph',
          text: 'Every command takes --json for machine-readable output and --html FILE for a self-contained report.',
        },
      ],
      data: { parts },
    };
  },
};
