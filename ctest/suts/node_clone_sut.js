// A Node SUT whose pool worker sends back what structured clone cannot copy
// (an object with a function, as a worker returning an SDK error object
// with methods might): Node prints "... could not be cloned." on stderr and
// the attempt never arrives. xph must read that line as a boundary failure,
// as it reads Python's "cannot pickle".
const cp = require("child_process");
const fs = require("fs");

if (process.argv[2] === "worker") {
  // Uncaught: Node prints the DataCloneError and the worker exits 1.
  process.send({ ok: true, retry: () => 0 });
} else {
  const worker = cp.fork(__filename, ["worker"], { serialization: "advanced" });
  worker.on("exit", () => {
    const result = process.env.XPH_RESULT;
    fs.writeFileSync(result + ".tmp", JSON.stringify({ xph: 1, sut: "node-clone 1", attempts: [] }));
    fs.renameSync(result + ".tmp", result);
  });
}
