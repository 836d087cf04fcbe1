// Test support for the packages built on @telly/schemas: fast-check arbitraries of SenML packs.
export { resolvedPackArbitrary, resolvedRecordArbitrary } from './senml/arbitrary.ts';
