/**
 * Tags that name a pipeline function and its handler's entry in the template. The local twin
 * reads them: with bundling skipped, a synthesized function keeps no source path of its own.
 */
export const functionTags = { name: 'upshift:function', entry: 'upshift:entry' } as const;
