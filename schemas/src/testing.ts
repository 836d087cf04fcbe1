// Test support for the packages built on @telly/schemas: fast-check arbitraries of SenML packs
// and what a bridge stores of them.
export { ANY_STORABLE_TIME, acceptedBody } from './senml/accepted-body.ts';
export { resolvedPackArbitrary, resolvedRecordArbitrary } from './senml/arbitrary.ts';
