import { describe, expect, it } from 'vitest';
import { parseConnString, parseKeywordString, redact, resolveConnection } from '../../src/load/connection.js';

describe('connection strings', () => {
  it('parses libpq keyword strings as Clair writes them', () => {
    expect(parseKeywordString("host=db port=5433 dbname=matcher user=clair password='s3 cr\\'et' sslmode=disable")).toEqual({
      host: 'db', port: '5433', dbname: 'matcher', user: 'clair', password: "s3 cr'et", sslmode: 'disable',
    });
    expect(parseConnString('host=db dbname=m user=u password=p sslmode=require')).toMatchObject({ host: 'db', database: 'm', user: 'u', password: 'p', ssl: { rejectUnauthorized: false } });
  });
  it('parses URLs', () => {
    expect(parseConnString('postgres://u:p%40ss@h:6000/db?sslmode=disable')).toMatchObject({ host: 'h', port: 6000, user: 'u', password: 'p@ss', database: 'db' });
  });
  it('takes --db over CLAIR_BUNDLE_DB and describes the target without the password', async () => {
    const r = await resolveConnection({ db: 'postgres://u:hunter22@h/db', env: { CLAIR_BUNDLE_DB: 'host=x' } });
    expect(r.description).toBe('u@h:5432/db');
    expect(r.from).toBe('--db');
    expect(redact('failed for postgres://u:hunter22@h/db and hunter22', r.secrets)).not.toContain('hunter22');
  });
  it('redacts password= pairs and URL passwords it was not told about', () => {
    expect(redact("host=h password=abc123 user=u", [])).toBe('host=h password=*** user=u');
    expect(redact('postgres://a:b@c/d', [])).toBe('postgres://a:***@c/d');
  });
});
