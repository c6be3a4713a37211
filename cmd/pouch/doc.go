// Command pouch runs Pouch. "pouch serve" is the embedded default: every
// function in one local process on 127.0.0.1, a local-directory bank and
// Redis started as a child process.
package main
