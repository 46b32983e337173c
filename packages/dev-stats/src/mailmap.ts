interface Entry {
  readonly name: string | undefined;
  readonly email: string | undefined;
}

export interface Identity {
  readonly name: string;
  readonly email: string;
}

/** git's `.mailmap`: maps a commit's (name, e-mail) to the canonical pair. */
export class Mailmap {
  private readonly byEmail = new Map<string, Entry>();
  private readonly byNameEmail = new Map<string, Entry>();

  static parse(text: string): Mailmap {
    const map = new Mailmap();
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      map.addLine(line);
    }
    return map;
  }

  get size(): number {
    return this.byEmail.size + this.byNameEmail.size;
  }

  private addLine(line: string): void {
    // Like git: the first "Name <email>" is the proper identity, a second one the commit's;
    // text that is not inside such a pair is ignored, and so are lines without an address.
    const groups = [...line.matchAll(/([^<>]*)<([^<>]*)>/g)];
    const first = groups[0];
    if (first === undefined) return;
    const properName = optional(first[1]);
    const properEmail = optional(first[2]);
    const second = groups[1];
    if (second === undefined) {
      if (properEmail === undefined) return;
      this.byEmail.set(properEmail.toLowerCase(), { name: properName, email: undefined });
      return;
    }
    const commitName = optional(second[1]);
    const commitEmail = (second[2] ?? '').trim().toLowerCase();
    const entry = { name: properName, email: properEmail };
    if (commitName === undefined) this.byEmail.set(commitEmail, entry);
    else this.byNameEmail.set(`${commitName.toLowerCase()}\0${commitEmail}`, entry);
  }

  map(name: string, email: string): Identity {
    if (this.size === 0) return { name, email };
    const key = email.toLowerCase();
    const entry = this.byNameEmail.get(`${name.toLowerCase()}\0${key}`) ?? this.byEmail.get(key);
    if (entry === undefined) return { name, email };
    return { name: entry.name ?? name, email: entry.email ?? email };
  }
}

function optional(text: string | undefined): string | undefined {
  const trimmed = (text ?? '').trim();
  return trimmed === '' ? undefined : trimmed;
}
