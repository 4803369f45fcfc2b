// The bell window's first paint in the desktop app: its data comes with the document (the shell
// sets it before the page's script runs), not over IPC while WebKit is still starting.

import type { Commands, FirstPaint } from './backend';

/** The first paint's data, which came with the document: each part answers the first call for it
 * (the page only the request it was read for), so the window paints without waiting on IPC while
 * WebKit is still starting. Every later call goes over IPC. */
export function withFirstPaint(commands: Commands, first: FirstPaint | undefined): Commands {
  if (!first) return commands;
  const left = { page: true, counts: true, settings: true, status: true };
  const take = (part: keyof typeof left) => {
    const fresh = left[part];
    left[part] = false;
    return fresh;
  };
  return {
    ...commands,
    page: (scope, unreadOnly, after, limit) => {
      const asked = scope.tab === first.scope.tab && scope.category === first.scope.category
        && unreadOnly === first.unread_only && after === null && limit === first.limit;
      return take('page') && asked ? Promise.resolve(first.page) : commands.page(scope, unreadOnly, after, limit);
    },
    counts: () => (take('counts') ? Promise.resolve(first.counts) : commands.counts()),
    settings: () => (take('settings') ? Promise.resolve(first.settings) : commands.settings()),
    status: () => (take('status') ? Promise.resolve(first.status) : commands.status()),
  };
}
