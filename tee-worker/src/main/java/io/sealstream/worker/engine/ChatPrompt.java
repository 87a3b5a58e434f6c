package io.sealstream.worker.engine;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.Pair;
import io.sealstream.schemas.v1.ChatMessage;
import io.sealstream.schemas.v1.ChatRole;
import java.util.ArrayList;
import java.util.List;

/**
 * Renders chat messages into the prompt text a model continues. A model whose GGUF carries a chat
 * template gets its own template, applied by llama.cpp, ending with the assistant's turn. A model
 * without one (a base model such as stories260K) gets the plain format: a lone user message is
 * the prompt verbatim, so a base model continues it; a conversation is written one message per
 * line as {@code System: ...}, {@code User: ...}, {@code Assistant: ...} and ends with
 * {@code Assistant:}.
 */
final class ChatPrompt {
    private ChatPrompt() {
    }

    static String render(LlamaModel model, boolean hasTemplate, List<ChatMessage> messages) {
        if (hasTemplate) {
            String system = null;
            List<Pair<String, String>> turns = new ArrayList<>();
            for (int i = 0; i < messages.size(); i++) {
                ChatMessage m = messages.get(i);
                if (i == 0 && m.getRole() == ChatRole.system) {
                    system = m.getContent();
                } else {
                    turns.add(new Pair<>(m.getRole().name(), m.getContent()));
                }
            }
            return model.applyTemplate(new InferenceParameters("").setMessages(system, turns));
        }
        return plain(messages);
    }

    /** The plain format, for models without a chat template. */
    static String plain(List<ChatMessage> messages) {
        if (messages.size() == 1 && messages.get(0).getRole() == ChatRole.user) {
            return messages.get(0).getContent();
        }
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            String role = m.getRole().name();
            sb.append(Character.toUpperCase(role.charAt(0))).append(role.substring(1)).append(": ")
                    .append(m.getContent()).append('\n');
        }
        return sb.append("Assistant:").toString();
    }
}
