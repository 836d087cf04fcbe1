import SchemaBuilder, {
  BasePlugin,
  createInputValueMapper,
  mapInputFields,
  type PothosOutputFieldConfig,
  resolveInputTypeConfig,
  type SchemaTypes,
} from '@pothos/core';
import { tellyIdOrNone } from '@telly/schemas';
import type { GraphQLFieldResolver } from 'graphql';

/** The plugin's name, for the builder's `plugins`. */
export const TELLY_ID_PLUGIN = 'tellyId';

/**
 * The one reading of ids at the GraphQL edge: every `ID` argument and `ID` field of an input object
 * (lists included) passes through `tellyIdOrNone` before a resolver or subscriber sees it. A
 * malformed id thus reaches every field as the id of nothing, and each field answers it exactly
 * as it answers an unknown id (null, an empty list, NOT_FOUND, a silent subscription). The wire
 * type stays `ID` (the published contract); this plugin is what makes it a Telly id.
 */
export class TellyIdPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    const ids = this.#idsOf(fieldConfig);
    return ids ? (parent, args, context, info) => resolver(parent, ids(args), context, info) : resolver;
  }

  override wrapSubscribe(
    subscribe: GraphQLFieldResolver<unknown, Types['Context'], object> | undefined,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> | undefined {
    const ids = this.#idsOf(fieldConfig);
    return ids && subscribe
      ? (parent, args, context, info) => subscribe(parent, ids(args), context, info)
      : subscribe;
  }

  /** A mapper of the field's arguments, or undefined when no `ID` is among them. */
  #idsOf(fieldConfig: PothosOutputFieldConfig<Types>): ((args: object) => object) | undefined {
    const mappings = mapInputFields(fieldConfig.args, this.buildCache, (field) =>
      resolveInputTypeConfig(field.type, this.buildCache).name === 'ID' ? true : null,
    );
    if (!mappings) return undefined;
    const map = createInputValueMapper(mappings, (value) => tellyIdOrNone(value));
    return (args) => map(args as Record<string, unknown>);
  }
}

SchemaBuilder.registerPlugin(TELLY_ID_PLUGIN, TellyIdPlugin);

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      tellyId: TellyIdPlugin<Types>;
    }
  }
}
