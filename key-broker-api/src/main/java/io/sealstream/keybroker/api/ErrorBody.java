package io.sealstream.keybroker.api;

/** Every error answer: a stable code and a message that says what was wrong and what to do. */
public record ErrorBody(String error, String message) {
}
