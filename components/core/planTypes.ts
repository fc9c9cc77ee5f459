/** The pieces each data class contributes to `plan.md` (assembled by components/plan.ts). */
export interface PlanRow {
  /** What is backed up, e.g. "PostgreSQL `wiki` (wiki/postgres:5432)". */
  readonly what: string;
  /** How, e.g. "pg_dump → gzip → S3 multipart upload (CronJob wiki/pg-dump-wiki)". */
  readonly how: string;
  /** When, in UTC, e.g. "daily 03:00 UTC (`0 3 * * *`)". */
  readonly when: string;
  /** How long it is kept, e.g. "7 days (hub lifecycle)". */
  readonly retention: string;
  /** Where it lands, e.g. "s3://backups/postgres-backups/wiki/". */
  readonly where: string;
}

export interface PlanSection {
  /** Section title, e.g. "PostgreSQL". */
  readonly title: string;
  readonly rows: PlanRow[];
  /** Extra markdown for the section (coverage tables, expected counts, storage estimates). */
  readonly details: string;
  /** Markdown: how to restore this class, with the exact commands. */
  readonly restore: string;
}
