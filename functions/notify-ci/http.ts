import type { Post } from './notify-ci';

/**
 * POST with fetch and a deadline. Redirects are not followed: a receiver that moved answers 3xx,
 * which counts as refused, rather than the signed body going somewhere nobody configured.
 */
export const fetchPost: Post = async (url, request) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
    redirect: 'manual',
    signal: AbortSignal.timeout(request.timeoutMs),
  });
  const text = await response.text().catch(() => '');
  return { status: response.status, text };
};
