import { describe, expect, it } from 'vitest';
import { Attribution } from './attribution.js';
import { parseGitdmConfig } from './gitdm-config.js';
import { Mailmap } from './mailmap.js';

function files(map: Record<string, string>): (file: string) => string {
  return (file) => {
    const text = map[file];
    if (text === undefined) throw new Error(`no ${file}`);
    return text;
  };
}

describe("gitdm's configuration files", () => {
  const config = parseGitdmConfig(
    'gitdm.config',
    files({
      'gitdm.config': [
        '# comment',
        'EmailAliases aliases',
        'EmailMap emailmap',
        'GroupMap volunteers (None)',
        'CompanyMap companies',
        'FileTypeMap filetypes',
        'VirtualEmployer Split Shop',
        '  60% Alpha',
        '  40 Beta',
        'end',
      ].join('\n'),
      aliases: '"old@home.example" new@work.example\nvariant@x.example canonical@corp.example\n',
      emailmap: 'work.example Work Co < 2010-06-01\nwork.example Other Co\ncorp.example Corp\nsub.corp.example Sub Corp\n',
      volunteers: 'me@free.example\n',
      companies: '`Corp` `Corporation`\n',
    }),
  );

  it('maps aliases, dated employers, groups and company renames', () => {
    const who = new Attribution(new Mailmap(), config);
    const alias = who.identity('Someone', 'OLD@home.example');
    expect(alias.email).toBe('new@work.example');
    expect(who.employer(alias.email, '2010-05-31')).toBe('Work Co');
    expect(who.employer(alias.email, '2010-06-01')).toBe('Other Co');
    expect(who.employer('me@free.example', '2012-01-01')).toBe('(None)');
    expect(who.employer('x@corp.example', '2012-01-01')).toBe('Corporation');
    // gitdm tries the last two labels of a domain first.
    expect(who.employer('x@sub.corp.example', '2012-01-01')).toBe('Corporation');
    expect(who.employer('x@nowhere.example', '2012-01-01')).toBe('(Unknown)');
    expect(config.virtualEmployers.get('Split Shop')).toEqual([
      { percent: 60, employer: 'Alpha' },
      { percent: 40, employer: 'Beta' },
    ]);
  });

  it.each([
    ['gitdm.config', 'Bogus thing\n', 'gitdm.config:1: unknown directive "Bogus"'],
    ['gitdm.config', '\n\nEmailMap\n', 'gitdm.config:3: expected "<Directive> <file>"'],
    ['emailmap', 'good.example Good\nbad.example Bad < 2012/01/01\n', 'emailmap:2: expected a date yyyy-mm-dd'],
    ['emailmap', 'lonely.example\n', 'emailmap:1: expected "[user@]domain Employer [< yyyy-mm-dd]"'],
    ['aliases', 'a@b.example not-an-address\n', 'aliases:1: expected an e-mail address'],
  ])('rejects a malformed line in %s with file:line', (broken, text, message) => {
    const base: Record<string, string> = {
      'gitdm.config': 'EmailAliases aliases\nEmailMap emailmap\n',
      aliases: '',
      emailmap: '',
    };
    base[broken] = text;
    expect(() => parseGitdmConfig('gitdm.config', files(base))).toThrow(expect.objectContaining({ code: 'DEV_STATS_BAD_CONFIG', message: expect.stringContaining(message) as string }));
  });

  it('rejects a VirtualEmployer without its end line', () => {
    expect(() => parseGitdmConfig('c', files({ c: 'VirtualEmployer V\n50 A\n' }))).toThrow(expect.objectContaining({ code: 'DEV_STATS_BAD_CONFIG' }));
  });
});
