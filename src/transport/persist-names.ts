// Names shared by the CLI entry and the connection keeper, in a module of their own so that
// `provision --help` does not load the SSH library to compare one argument.

/** The hidden CLI command that runs the keeper (src/transport/persist-daemon.ts). */
export const KEEPER_COMMAND = '__ssh-keeper';
