/** @module Minimal typing of the autocannon load generator (it ships no types); only what bench/api uses. */
declare module 'autocannon' {
  const autocannon: unknown;
  export default autocannon;
}
