import { OvalDateError, parseOvalDate } from './date.js';
import { XmlSyntaxError, xmlEvents, type XmlEvent } from './xml.js';

/**
 * The parts of an OVAL definitions document claircore reads (goval-parser's `oval.Root`), read
 * in two streaming passes so that no document is ever held whole:
 *
 *  1. `readOvalTables`: tests, objects, states and constant variables (all after the
 *     definitions in the schema's element order), kept as small lookup tables;
 *  2. `readOvalDefinitions`: the definitions, yielded one at a time.
 *
 * Typed fields are checked the way Go's encoding/xml decodes them into goval-parser's structs
 * (`version` attributes as int, `negate` as bool, `operation` attributes as oval.Operation,
 * dates), because a decode error there aborts claircore's whole parse. Unknown elements are
 * skipped. Shared by every OVAL updater (ubuntu now; oracle, suse, photon later).
 */

/** A document-level decode error (XML syntax, a typed attribute, a date). */
export class OvalDecodeError extends Error {
  constructor(message: string, readonly record?: string) {
    super(message);
  }
}

export interface OvalReference {
  source: string;
  refId: string;
  refUrl: string;
}

export interface OvalCve {
  id: string;
  href: string;
  cvss2: string;
  cvss3: string;
  impact: string;
  public: string;
}

export interface OvalAdvisory {
  severity: string;
  cves: OvalCve[];
  refs: string[];
  bugs: string[];
  bugzillas: { id: string; href: string; title: string }[];
  affectedCpeList: string[];
  /** RFC 3339 UTC instants, or '' for Go's zero time. */
  publicDate: string;
  issued: string;
  updated: string;
}

export interface OvalCriterion {
  negate: boolean;
  testRef: string;
  comment: string;
}

export interface OvalCriteria {
  operator: string;
  criterias: OvalCriteria[];
  criterions: OvalCriterion[];
}

export interface OvalDefinition {
  id: string;
  class: string;
  title: string;
  description: string;
  affecteds: { family: string; platforms: string[] }[];
  references: OvalReference[];
  advisory: OvalAdvisory;
  criteria: OvalCriteria;
}

/** A goval-parser test of any kind: its object and state references in document order. */
export interface OvalTest {
  kind: string;
  id: string;
  objectRefs: string[];
  stateRefs: string[];
}

/** `<name>` of a dpkginfo_object (var_ref or text) or rpminfo_object (text). */
export interface OvalObject {
  kind: string;
  id: string;
  name: { varRef: string; body: string } | null;
}

/** An element with an `operation` attribute and text (evr, arch, …). */
export interface OvalOpValue {
  /** goval-parser Operation name ('' when the attribute is absent). */
  operation: string;
  body: string;
}

export interface OvalState {
  kind: string;
  id: string;
  evr: OvalOpValue | null;
  arch: OvalOpValue | null;
}

/** Lookup tables, resolved in goval-parser's kind order; a duplicate id keeps the last element. */
export interface OvalTables {
  tests: Map<string, OvalTest>;
  objects: Map<string, OvalObject>;
  states: Map<string, OvalState>;
  /** constant_variable id → values in document order. */
  variables: Map<string, string[]>;
}

export const TEST_KINDS = ['line_test', 'version55_test', 'rpminfo_test', 'dpkginfo_test', 'rpmverifyfile_test', 'uname_test', 'textfilecontent54_test'];
export const OBJECT_KINDS = ['line_object', 'version55_object', 'textfilecontent54_object', 'rpminfo_object', 'rpmverifyfile_object', 'dpkginfo_object'];
export const STATE_KINDS = ['line_state', 'version55_state', 'rpminfo_state', 'dpkginfo_state'];
/** State children decoded as typed (operation attribute) elements by goval-parser. */
const OP_CHILDREN = ['arch', 'epoch', 'release', 'version', 'evr'];

// ---- Go typed-value rules --------------------------------------------------------------

const OPERATION_NAMES = [
  'equals', 'not equals', 'case insensitive equals', 'case insensitive not equals', 'greater than', 'less than',
  'greater than or equal', 'less than or equal', 'bitwise and', 'bitwise or', 'pattern match', 'subset of', 'superset of',
];
const OPERATION_JOINED = OPERATION_NAMES.join('');
const OPERATION_STARTS = OPERATION_NAMES.reduce<number[]>((acc, n, i) => [...acc, i === 0 ? 0 : acc[i - 1] + OPERATION_NAMES[i - 1].length], []);

/** goval-parser Operation.UnmarshalText: the name whose start is the first occurrence of `text`. */
export function goOperation(text: string): string {
  const off = OPERATION_JOINED.indexOf(text);
  const i = OPERATION_STARTS.indexOf(off);
  if (off === -1 || i === -1) throw new OvalDecodeError(`oval: unknown operation ${JSON.stringify(text)}`);
  return OPERATION_NAMES[i];
}

/** Go encoding/xml into an int field: empty is 0, otherwise strconv.ParseInt(TrimSpace(s), 10, 64). */
function checkGoInt(value: string | undefined, what: string): void {
  if (value === undefined || value === '') return;
  const s = value.trim();
  if (!/^[+-]?\d+$/.test(s) || BigInt(s) > 9223372036854775807n || BigInt(s) < -9223372036854775808n) {
    throw new OvalDecodeError(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax (${what})`);
  }
}

/** Go encoding/xml into a bool field: empty is false, otherwise strconv.ParseBool(TrimSpace(s)). */
function goBool(value: string | undefined, what: string): boolean {
  if (value === undefined || value === '') return false;
  const s = value.trim();
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw new OvalDecodeError(`strconv.ParseBool: parsing ${JSON.stringify(s)}: invalid syntax (${what})`);
}

// ---- event walking -----------------------------------------------------------------------

interface Frame {
  name: string;
  attrs: Readonly<Record<string, string>>;
  /** Direct character data, when this element's text is wanted. */
  text: string[] | null;
}

/** Runs `onClose`/`onOpen` over a document's events with a stack of open elements. */
async function walk(
  input: AsyncIterable<Buffer | string>,
  handlers: {
    /** Return true to collect this element's direct text. */
    open(stack: readonly Frame[], frame: Frame): boolean;
    close(stack: readonly Frame[], frame: Frame, text: string): void | Promise<void>;
  },
): Promise<void> {
  const stack: Frame[] = [];
  for await (const ev of xmlEvents(input) as AsyncIterable<XmlEvent>) {
    if (ev.type === 'open') {
      if (stack.length === 0 && ev.name !== 'oval_definitions') {
        throw new OvalDecodeError(`expected element type <oval_definitions> but have <${ev.name}>`);
      }
      const frame: Frame = { name: ev.name, attrs: ev.attrs, text: null };
      if (handlers.open(stack, frame)) frame.text = [];
      stack.push(frame);
    } else if (ev.type === 'text') {
      stack[stack.length - 1]?.text?.push(ev.text);
    } else {
      const frame = stack.pop()!;
      await handlers.close(stack, frame, frame.text?.join('') ?? '');
    }
  }
}

// ---- pass 1: tables ------------------------------------------------------------------------

/** Pass 1: every test, object, state and constant variable of the document. */
export async function readOvalTables(input: AsyncIterable<Buffer | string>): Promise<OvalTables> {
  const byKind = {
    tests: new Map<string, Map<string, OvalTest>>(TEST_KINDS.map((k) => [k, new Map()])),
    objects: new Map<string, Map<string, OvalObject>>(OBJECT_KINDS.map((k) => [k, new Map()])),
    states: new Map<string, Map<string, OvalState>>(STATE_KINDS.map((k) => [k, new Map()])),
  };
  const variables = new Map<string, string[]>();
  let test: OvalTest | null = null;
  let object: OvalObject | null = null;
  let state: OvalState | null = null;
  let variable: string[] | null = null;

  await walk(input, {
    open(stack, f) {
      const d = stack.length;
      if (d === 2 && stack[1].name === 'tests' && TEST_KINDS.includes(f.name)) {
        checkGoInt(f.attrs.version, `${f.name} ${f.attrs.id ?? ''} version`);
        test = { kind: f.name, id: f.attrs.id ?? '', objectRefs: [], stateRefs: [] };
      } else if (d === 3 && test && stack[1].name === 'tests') {
        if (f.name === 'object') test.objectRefs.push(f.attrs.object_ref ?? '');
        if (f.name === 'state') test.stateRefs.push(f.attrs.state_ref ?? '');
      } else if (d === 2 && stack[1].name === 'objects' && OBJECT_KINDS.includes(f.name)) {
        checkGoInt(f.attrs.version, `${f.name} ${f.attrs.id ?? ''} version`);
        object = { kind: f.name, id: f.attrs.id ?? '', name: null };
      } else if (d === 3 && object && stack[1].name === 'objects' && f.name === 'name' && (object.kind === 'dpkginfo_object' || object.kind === 'rpminfo_object')) {
        return true;
      } else if (d === 2 && stack[1].name === 'states' && STATE_KINDS.includes(f.name)) {
        checkGoInt(f.attrs.version, `${f.name} ${f.attrs.id ?? ''} version`);
        state = { kind: f.name, id: f.attrs.id ?? '', evr: null, arch: null };
      } else if (d === 3 && state && stack[1].name === 'states' && (state.kind === 'dpkginfo_state' || state.kind === 'rpminfo_state') && OP_CHILDREN.includes(f.name)) {
        return true;
      } else if (d === 2 && stack[1].name === 'variables' && f.name === 'constant_variable') {
        variable = [];
        variables.set(f.attrs.id ?? '', variable);
      } else if (d === 3 && variable && stack[1].name === 'variables' && f.name === 'value') {
        return true;
      }
      return false;
    },
    close(stack, f, text) {
      const d = stack.length;
      if (d === 2 && test && stack[1].name === 'tests') {
        byKind.tests.get(test.kind)!.set(test.id, test);
        test = null;
      } else if (d === 3 && object && f.name === 'name') {
        // goval-parser: dpkg `Name *DpkgName` (var_ref + text); rpm `Name string`. The last element wins.
        object.name = { varRef: object.kind === 'dpkginfo_object' ? f.attrs.var_ref ?? '' : '', body: text };
      } else if (d === 2 && object && stack[1].name === 'objects') {
        byKind.objects.get(object.kind)!.set(object.id, object);
        object = null;
      } else if (d === 3 && state && OP_CHILDREN.includes(f.name)) {
        const value: OvalOpValue = { operation: f.attrs.operation === undefined ? '' : goOperation(f.attrs.operation), body: text };
        if (f.name === 'evr') state.evr = value;
        if (f.name === 'arch') state.arch = value;
      } else if (d === 2 && state && stack[1].name === 'states') {
        byKind.states.get(state.kind)!.set(state.id, state);
        state = null;
      } else if (d === 3 && variable && f.name === 'value') {
        variable.push(text);
      } else if (d === 2 && variable && f.name === 'constant_variable') {
        variable = null;
      }
    },
  });
  // Merge in goval-parser's lookup order: the first kind holding an id wins.
  const merge = <T>(kinds: string[], maps: Map<string, Map<string, T>>): Map<string, T> => {
    const out = new Map<string, T>();
    for (const k of kinds) for (const [id, v] of maps.get(k)!) if (!out.has(id)) out.set(id, v);
    return out;
  };
  return {
    tests: merge(TEST_KINDS, byKind.tests),
    objects: merge(OBJECT_KINDS, byKind.objects),
    states: merge(STATE_KINDS, byKind.states),
    variables,
  };
}

// ---- pass 2: definitions ---------------------------------------------------------------------

function emptyAdvisory(): OvalAdvisory {
  return { severity: '', cves: [], refs: [], bugs: [], bugzillas: [], affectedCpeList: [], publicDate: '', issued: '', updated: '' };
}

function emptyCriteria(operator = ''): OvalCriteria {
  return { operator, criterias: [], criterions: [] };
}

const ADVISORY_TEXT = ['severity', 'cve', 'bugzilla', 'ref', 'bug', 'public_date', 'issued', 'updated'];

/** Pass 2: the definitions, one at a time, in document order. */
export async function* readOvalDefinitions(input: AsyncIterable<Buffer | string>): AsyncGenerator<OvalDefinition> {
  // walk() is callback-driven; hand finished definitions over through a small queue.
  const queue: OvalDefinition[] = [];
  let def: OvalDefinition | null = null;
  /** Open criteria elements of the current definition (outermost first). */
  let criteriaStack: OvalCriteria[] = [];
  let affected: { family: string; platforms: string[] } | null = null;

  const events = xmlEventsBuffered(input);
  const inDef = (stack: readonly Frame[]) => stack.length >= 3 && stack[1].name === 'definitions' && stack[2].name === 'definition';
  const handlers = {
    open(stack: readonly Frame[], f: Frame): boolean {
      const d = stack.length;
      if (d === 2 && stack[1].name === 'definitions' && f.name === 'definition') {
        def = {
          id: f.attrs.id ?? '', class: f.attrs.class ?? '', title: '', description: '', affecteds: [], references: [],
          advisory: emptyAdvisory(), criteria: emptyCriteria(),
        };
        criteriaStack = [];
        return false;
      }
      if (!def || !inDef(stack)) return false;
      const rel = stack.slice(3).map((s) => s.name);
      if (rel.length === 0 && f.name === 'criteria') {
        // goval-parser: `Criteria Criteria xml:"criteria"`: a later element replaces the earlier one.
        def.criteria = emptyCriteria(f.attrs.operator ?? '');
        criteriaStack = [def.criteria];
        return false;
      }
      if (rel.length > 0 && rel[0] === 'criteria' && rel.every((n) => n === 'criteria') && criteriaStack.length === rel.length) {
        const parent = criteriaStack[criteriaStack.length - 1];
        if (f.name === 'criteria') {
          const c = emptyCriteria(f.attrs.operator ?? '');
          parent.criterias.push(c);
          criteriaStack.push(c);
        } else if (f.name === 'criterion') {
          parent.criterions.push({
            negate: goBool(f.attrs.negate, `criterion ${f.attrs.test_ref ?? ''} negate`),
            testRef: f.attrs.test_ref ?? '',
            comment: f.attrs.comment ?? '',
          });
        }
        return false;
      }
      if (rel.length === 1 && rel[0] === 'metadata') {
        if (f.name === 'title' || f.name === 'description') return true;
        if (f.name === 'reference') def.references.push({ source: f.attrs.source ?? '', refId: f.attrs.ref_id ?? '', refUrl: f.attrs.ref_url ?? '' });
        if (f.name === 'affected') {
          affected = { family: f.attrs.family ?? '', platforms: [] };
          def.affecteds.push(affected);
        }
        return false;
      }
      if (rel.length === 2 && rel[0] === 'metadata' && rel[1] === 'affected' && f.name === 'platform') return true;
      if (rel.length === 2 && rel[0] === 'metadata' && rel[1] === 'advisory') return ADVISORY_TEXT.includes(f.name);
      if (rel.length === 3 && rel[0] === 'metadata' && rel[1] === 'advisory' && rel[2] === 'affected_cpe_list') return f.name === 'cpe';
      if (rel.length === 2 && rel[0] === 'metadata' && rel[1] === 'debian') return f.name === 'date';
      return false;
    },
    close(stack: readonly Frame[], f: Frame, text: string): void {
      const d = stack.length;
      if (d === 2 && def && f.name === 'definition' && stack[1].name === 'definitions') {
        queue.push(def);
        def = null;
        return;
      }
      if (!def || !inDef(stack)) return;
      const rel = stack.slice(3).map((s) => s.name);
      const record = def.id;
      if (rel.length >= 1 && rel.every((n) => n === 'criteria') && f.name === 'criteria' && rel[0] === 'criteria') {
        criteriaStack.pop();
        return;
      }
      if (rel.length === 1 && rel[0] === 'metadata') {
        if (f.name === 'title') def.title = text;
        if (f.name === 'description') def.description = text;
        return;
      }
      if (rel.length === 2 && rel[0] === 'metadata' && rel[1] === 'affected' && f.name === 'platform') {
        affected?.platforms.push(text);
        return;
      }
      if (rel.length === 3 && rel[0] === 'metadata' && rel[2] === 'affected_cpe_list' && f.name === 'cpe') {
        def.advisory.affectedCpeList.push(text);
        return;
      }
      const date = (what: string) => {
        try {
          return parseOvalDate(Object.entries(f.attrs), text);
        } catch (err) {
          if (err instanceof OvalDateError) throw new OvalDecodeError(`${what}: ${err.message}`, record);
          throw err;
        }
      };
      if (rel.length === 2 && rel[0] === 'metadata' && rel[1] === 'debian' && f.name === 'date') {
        date('debian date');
        return;
      }
      if (!(rel.length === 2 && rel[0] === 'metadata' && rel[1] === 'advisory')) return;
      const a = def.advisory;
      switch (f.name) {
        case 'severity': a.severity = text; break;
        case 'ref': a.refs.push(text); break;
        case 'bug': a.bugs.push(text); break;
        case 'bugzilla': a.bugzillas.push({ id: f.attrs.id ?? '', href: f.attrs.href ?? '', title: text }); break;
        case 'cve':
          a.cves.push({
            id: text, href: f.attrs.href ?? '', cvss2: f.attrs.cvss2 ?? '', cvss3: f.attrs.cvss3 ?? '', impact: f.attrs.impact ?? '', public: f.attrs.public ?? '',
          });
          break;
        case 'public_date': a.publicDate = date('public_date'); break;
        case 'issued': a.issued = date('issued'); break;
        case 'updated': a.updated = date('updated'); break;
      }
    },
  };
  const run = walkEvents(events, handlers);
  for (;;) {
    const step = await run.next();
    while (queue.length) yield queue.shift()!;
    if (step.done) break;
  }
}

/** xmlEvents, re-exported under a name that states the buffering contract (one chunk of events at a time). */
function xmlEventsBuffered(input: AsyncIterable<Buffer | string>): AsyncGenerator<XmlEvent> {
  return xmlEvents(input);
}

/** walk() as a generator that pauses after every event, so definitions are yielded as they close. */
async function* walkEvents(
  events: AsyncIterable<XmlEvent>,
  handlers: { open(stack: readonly Frame[], f: Frame): boolean; close(stack: readonly Frame[], f: Frame, text: string): void },
): AsyncGenerator<void> {
  const stack: Frame[] = [];
  for await (const ev of events) {
    if (ev.type === 'open') {
      if (stack.length === 0 && ev.name !== 'oval_definitions') {
        throw new OvalDecodeError(`expected element type <oval_definitions> but have <${ev.name}>`);
      }
      const frame: Frame = { name: ev.name, attrs: ev.attrs, text: null };
      if (handlers.open(stack, frame)) frame.text = [];
      stack.push(frame);
    } else if (ev.type === 'text') {
      stack[stack.length - 1]?.text?.push(ev.text);
    } else {
      const frame = stack.pop()!;
      handlers.close(stack, frame, frame.text?.join('') ?? '');
      if (frame.name === 'definition') yield;
    }
  }
}

export { XmlSyntaxError };
