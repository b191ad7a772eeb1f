// The building blocks of the settings catalogue and the walks that derive everything else from it.
import { z } from 'zod';

/** How a setting is represented outside zod: its GraphQL type and its database column follow from it. */
export type SettingKind = 'string' | 'int' | 'boolean' | 'adviserStatus' | 'stringList' | 'workingHours';

export interface SettingNode<S extends z.ZodType = z.ZodType> {
  readonly node: 'setting';
  readonly kind: SettingKind;
  /** The key of the setting in the legacy flat JSON of the REST API. */
  readonly legacyKey: string;
  readonly schema: S;
  readonly description: string;
  /**
   * Whether the widget renders it: a publishable (pk_) key reads only these. The REST answer, the
   * GraphQL field checks, subscription events, the snapshot, OpenAPI and the README follow from it.
   */
  readonly public: boolean;
}

export interface GroupNode<F extends Fields = Fields> {
  readonly node: 'group';
  /** GraphQL object type name; groups of the same shape (e.g. the three SLA metrics) share one. */
  readonly typeName: string;
  readonly typeDescription: string;
  /** Description of the field that holds this group in its parent. */
  readonly description: string;
  readonly fields: F;
  /** Rule across the group's fields; it must tolerate absent fields, since patches are partial. */
  readonly check?: (value: Record<string, unknown>, ctx: z.RefinementCtx) => void;
}

export type CatalogueNode = SettingNode | GroupNode;
export type Fields = { readonly [name: string]: CatalogueNode };

/** Who may read a setting: `public` ones the widget renders (publishable keys read them), `secret` the others. */
export type Visibility = 'public' | 'secret';

export function setting<S extends z.ZodType>(
  kind: SettingKind,
  legacyKey: string,
  schema: S,
  description: string,
  visibility: Visibility = 'secret',
): SettingNode<S> {
  return { node: 'setting', kind, legacyKey, schema, description, public: visibility === 'public' };
}

export function group<F extends Fields>(options: Omit<GroupNode<F>, 'node'>): GroupNode<F> {
  return { node: 'group', ...options };
}

/** The value type that a catalogue node describes. */
export type ValueOf<N> =
  N extends SettingNode<infer S>
    ? z.output<S>
    : N extends GroupNode<infer F>
      ? { [K in keyof F]: ValueOf<F[K]> }
      : never;

/** A partial change: groups may be partial at any depth; settings (lists included) are replaced whole. */
export type PatchOf<N> =
  N extends SettingNode<infer S>
    ? z.output<S>
    : N extends GroupNode<infer F>
      ? { [K in keyof F]?: PatchOf<F[K]> }
      : never;

/** The zod schema of a whole value: every setting required, group rules applied. */
export function valueSchema(node: CatalogueNode): z.ZodType {
  if (node.node === 'setting') return node.schema;
  const shape = Object.fromEntries(
    Object.entries(node.fields).map(([name, child]) => [name, valueSchema(child)]),
  );
  const object = z.object(shape);
  return node.check ? object.superRefine(node.check) : object;
}

/** The zod schema of a patch: every field optional (absent means unchanged), never null, unknown keys refused. */
export function patchSchema(node: CatalogueNode): z.ZodType {
  if (node.node === 'setting') return node.schema;
  const shape = Object.fromEntries(
    Object.entries(node.fields).map(([name, child]) => [name, patchSchema(child).optional()]),
  );
  const object = z.strictObject(shape);
  return node.check ? object.superRefine(node.check) : object;
}

export interface SettingLeaf {
  readonly path: readonly string[];
  readonly setting: SettingNode;
}

/** Every setting of the tree with its path, in catalogue order. */
export function settingLeaves(node: GroupNode, prefix: readonly string[] = []): SettingLeaf[] {
  return Object.entries(node.fields).flatMap(([name, child]) =>
    child.node === 'setting'
      ? [{ path: [...prefix, name], setting: child }]
      : settingLeaves(child, [...prefix, name]),
  );
}

export function getPath(value: unknown, path: readonly (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

export function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let current = target;
  for (const key of path.slice(0, -1)) {
    const next = current[key];
    if (next === null || typeof next !== 'object') current[key] = {};
    current = current[key] as Record<string, unknown>;
  }
  current[path[path.length - 1] as string] = value;
}
