/**
 * The OpenSSH client options the hub tests use against their own sshd on loopback: this server only,
 * its pinned host key (`knownHosts`), the given client key, no agent and no user configuration.
 */
export function sshClientOptions(key: string, knownHosts: string): string[] {
  return [
    "-F",
    "/dev/null",
    "-i",
    key,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "IdentityAgent=none",
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${knownHosts}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "ConnectTimeout=5",
  ];
}
