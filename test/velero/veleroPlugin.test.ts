/**
 * The Velero AWS plugin the stack deploys, held to the source facts it was chosen on
 * (components/core/versions.ts VELERO_AWS_PLUGIN_EMPTY_TAGGING): v1.14.1 and v1.14.2 set
 * `Tagging: aws.String(o.tagging)` on every PutObject (velero-plugin-for-aws object_store.go), so an
 * empty `x-amz-tagging` header goes out; the fix (#299, backported as #309) is first in v1.14.3.
 * Moving the pin past the fix without turning the conformance probe off, or back into the affected
 * range without turning it on, fails here.
 */
import { describe, expect, it } from "vitest";
import { VELERO_AWS_PLUGIN_EMPTY_TAGGING, VERSIONS } from "../../components/core/versions.js";

/** Whether a plugin release sends the empty header: v1.14.1 (SDK update) up to the fix in v1.14.3. */
function sendsEmptyTagging(tag: string): boolean {
  const m = /^v(\d+)\.(\d+)\.(\d+)$/.exec(tag);
  if (!m) throw new Error(`not a release tag: ${tag}`);
  const v = [+m[1], +m[2], +m[3]];
  const cmp = (a: number[], b: number[]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  return cmp(v, [1, 14, 1]) >= 0 && cmp(v, [1, 14, 3]) < 0;
}

describe("velero-plugin-for-aws", () => {
  const tag = VERSIONS.veleroAwsPluginImage.split(":")[1];

  it("is a pinned release, never a release candidate or latest", () => {
    expect(tag).toMatch(/^v\d+\.\d+\.\d+$/);
  });

  it("the conformance probe sends the empty x-amz-tagging header exactly when the pinned release does", () => {
    expect(VELERO_AWS_PLUGIN_EMPTY_TAGGING.image).toBe(VERSIONS.veleroAwsPluginImage);
    expect(VELERO_AWS_PLUGIN_EMPTY_TAGGING.sendsEmptyTaggingHeader).toBe(sendsEmptyTagging(tag));
  });

  it("the affected range is the one the source citations give", () => {
    expect(["v1.14.0", "v1.14.1", "v1.14.2", "v1.14.3", "v1.15.0"].map(sendsEmptyTagging)).toEqual([
      false,
      true,
      true,
      false,
      false,
    ]);
  });

  it("not v1.14.2 either (velero #9951)", () => {
    expect(tag).not.toBe("v1.14.2");
  });
});
