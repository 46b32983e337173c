import { emptyGitdmConfig, type EmployerSpan, type GitdmConfig } from './gitdm-config.js';
import { Mailmap, type Identity } from './mailmap.js';

/** The employer of an address no map knows. */
export const UNKNOWN_EMPLOYER = '(Unknown)';
/** The employer name gitdm's maps use for people working on their own time. */
export const NONE_EMPLOYER = '(None)';

/**
 * Who a name/address is and whom they worked for on a date: git's mailmap first, then
 * gitdm's EmailAliases; employers from EmailMap/GroupMap by exact address, then by
 * domain (gitdm's order: from the last two labels of the domain towards the full one).
 */
export class Attribution {
  private readonly spansCache = new Map<string, readonly EmployerSpan[] | null>();

  constructor(
    private readonly mailmap: Mailmap = new Mailmap(),
    private readonly config: GitdmConfig = emptyGitdmConfig(),
  ) {}

  identity(name: string, email: string): Identity {
    const mapped = this.mailmap.map(name, email);
    const lower = mapped.email.toLowerCase();
    return { name: mapped.name, email: this.config.aliases.get(lower) ?? lower };
  }

  /** `email` must already be canonical (from {@link identity}); `date` is YYYY-MM-DD. */
  employer(email: string, date: string): string {
    const spans = this.spansFor(email);
    if (spans === null) return UNKNOWN_EMPLOYER;
    let chosen = spans[spans.length - 1];
    for (const span of spans) {
      if (span.until === undefined || date < span.until) {
        chosen = span;
        break;
      }
    }
    // A date after every dated span with no open-ended one: the last employer holds
    // (gitdm stops with an error there; `--gitdm` reports it).
    const name = chosen?.employer ?? UNKNOWN_EMPLOYER;
    return this.config.companyMap.get(name) ?? name;
  }

  private spansFor(email: string): readonly EmployerSpan[] | null {
    const cached = this.spansCache.get(email);
    if (cached !== undefined) return cached;
    const found = this.lookup(email);
    this.spansCache.set(email, found);
    return found;
  }

  private lookup(email: string): readonly EmployerSpan[] | null {
    const exact = this.config.employers.get(email);
    if (exact !== undefined) return exact;
    const at = email.lastIndexOf('@');
    if (at < 0) return null;
    const labels = email.slice(at + 1).split('.');
    for (let first = labels.length - 2; first >= 0; first--) {
      const spans = this.config.employers.get(labels.slice(first).join('.'));
      if (spans !== undefined) return spans;
    }
    return null;
  }
}
