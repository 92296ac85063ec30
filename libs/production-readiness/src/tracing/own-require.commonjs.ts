/** The CommonJS build's own-require.ts: the module's own require(). */
export const ownRequire: NodeJS.Require = require;
