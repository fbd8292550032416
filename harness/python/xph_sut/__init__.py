"""xph_sut: write a system under test for xph in Python (contract section 4).

    import xph_sut

    def main():
        spec = xph_sut.load_spec()
        attempts = [xph_sut.run_attempt(spec, prompt, my_generate) for prompt in spec.prompts]
        xph_sut.write_result("mine 1.0", attempts)

    if __name__ == "__main__":
        xph_sut.serve(main)

Standard library only. docs/python-sut.md has the whole API, the warm start
protocol and the pytest plugin (xph_sut.pytest_plugin).
"""
from .attempts import call_with_retry, run_attempt
from .endpoints import ENDPOINTS, outputs_of, request_for
from .outcomes import KINDS, STAGES, envelope, error, failure, ok, retry_after_s
from .result import result, write_result
from .spec import START_METHODS, Probe, Prompt, Retry, Spec, SpecError, load_spec, parse_spec
from .warm import PROTOCOL_VERSION, SETUP_FAILED, serve

__version__ = "1.0"
__all__ = [
    "ENDPOINTS", "KINDS", "PROTOCOL_VERSION", "SETUP_FAILED", "STAGES", "START_METHODS", "Probe", "Prompt", "Retry",
    "Spec", "SpecError", "call_with_retry", "envelope", "error", "failure", "load_spec", "ok",
    "outputs_of", "parse_spec", "request_for", "result", "retry_after_s", "run_attempt", "serve", "write_result",
]
