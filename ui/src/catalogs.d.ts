// A Fluent catalog parsed at build time (vite.config.ts): the body of its FluentResource, read
// when called.
declare module '*.ftl?parsed' {
  const body: () => import('@fluent/bundle').FluentResource['body'];
  export default body;
}
