/** What both Express's response and Fastify's reply offer to set a header. */
export interface HeaderSetter {
  header(name: string, value: string): unknown;
}
