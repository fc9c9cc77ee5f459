/** A hub reader's credentials as the components receive them (both Pulumi secrets), for component tests. */
import * as pulumi from "@pulumi/pulumi";
import type { WriterCredentials } from "../../components/core/hubConnection.js";

export const READER_KEY_ID = "reader-key-id";
export const READER_SECRET = "reader-secret-value";

export const readerCredentials = (): WriterCredentials => ({
  accessKeyId: pulumi.secret(READER_KEY_ID),
  secretAccessKey: pulumi.secret(READER_SECRET),
});
