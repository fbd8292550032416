"""What a request to each endpoint xph scripts looks like, and the outputs of
its answer, as contract section 4 counts them: one per choice (chat,
completions), per input (embeddings) or per output item (responses). A tool
call says nothing: its output is None, as the SDKs' `message.content` is.

    path, body = xph_sut.request_for(spec.endpoint, spec.model, prompt.text, n)
    outputs = xph_sut.outputs_of(spec.endpoint, answer_json)   # ValueError if not that shape
"""

ENDPOINTS = ("chat", "completions", "embeddings", "responses")


def request_for(endpoint, model, text, n):
    """(path under the base URL, JSON body) of one call asking for n outputs
    (responses answers one whatever n says)."""
    if endpoint == "chat":
        return "/chat/completions", {"model": model, "n": n, "messages": [{"role": "user", "content": text}]}
    if endpoint == "completions":
        return "/completions", {"model": model, "n": n, "prompt": text}
    if endpoint == "embeddings":
        return "/embeddings", {"model": model, "input": [text] * n, "encoding_format": "float"}
    if endpoint == "responses":
        return "/responses", {"model": model, "input": text}
    raise ValueError("no endpoint %r (one of %s)" % (endpoint, ", ".join(ENDPOINTS)))


def _embedding_label(vector):
    # oaimock encodes each embedding's label as its character codes.
    return "".join(chr(int(v)) for v in vector if v > 0)


def _response_output(item):
    if item["type"] == "function_call":
        return None
    if item["type"] != "message":
        raise ValueError("an output item of type %r" % item["type"])
    return "".join(part["text"] for part in item["content"] if part["type"] == "output_text")


_OUTPUTS = {
    "chat": lambda body: [c["message"]["content"] for c in body["choices"]],
    "completions": lambda body: [c["text"] for c in body["choices"]],
    "embeddings": lambda body: [_embedding_label(d["embedding"]) for d in body["data"]],
    "responses": lambda body: [_response_output(item) for item in body["output"]],
}


def outputs_of(endpoint, body):
    """The outputs of a 2xx answer's parsed JSON; ValueError when it is not
    the shape that endpoint answers with."""
    try:
        return _OUTPUTS[endpoint](body)
    except (TypeError, KeyError, ValueError, AttributeError) as e:
        raise ValueError("not a %s answer: %s" % (endpoint, e)) from None
