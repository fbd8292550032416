// A wrapper as `npm start` is one: Node starts the command given as its
// arguments with inherited stdio, waits for it in its event loop (threads,
// no wait4), and exits with its code.
const { spawn } = require("child_process");
const child = spawn(process.argv[2], process.argv.slice(3), { stdio: "inherit" });
child.on("exit", (code, signal) => process.exit(signal ? 128 : code));
