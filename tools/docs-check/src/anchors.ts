/**
 * The anchors GitLab and GitHub give a heading. GitLab: lower case, everything but letters, digits, spaces, `_`
 * and `-` removed, spaces to `-`, runs of `-` folded into one
 * (https://docs.gitlab.com/user/markdown/#heading-ids-and-links); GitHub keeps the runs. A link may use either, and
 * a repeated heading gets `-1`, `-2`, … on both.
 */
export function headingAnchors(headings: readonly string[]): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const heading of headings) {
    for (const base of new Set([githubSlug(heading), gitlabSlug(heading)])) {
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${count}`);
    }
  }
  return anchors;
}

function plainText(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images keep their text
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/[`*~]/g, ''); // code and emphasis marks (the rendered text has none)
}

function githubSlug(heading: string): string {
  return plainText(heading).trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

function gitlabSlug(heading: string): string {
  return githubSlug(heading).replace(/-+/g, '-');
}
