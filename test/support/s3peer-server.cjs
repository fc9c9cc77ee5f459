// Runs s3rver in its own process (so a test may block on a child process without starving the
// server): node s3peer-server.cjs <dataDir> <bucket>... ; prints the port on stdout once listening.
const S3rver = require("s3rver");
const [dir, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: "127.0.0.1",
  port: Number(process.env.S3PEER_PORT || 0),
  silent: true,
  directory: dir,
  configureBuckets: buckets.map((name) => ({ name })),
});
server.run().then((info) => process.stdout.write(`${info.port}\n`));
process.on("SIGTERM", () => server.close().then(() => process.exit(0)));
