package io.mucheckpoint.cpu;

/**
 * What the translator did in a run: translations made (and evicted to stay in bounds), blocks it
 * declined, the bytecode held now, the host time spent translating, and how many of the retired
 * instructions ran inside translations. {@code dueAtEnd} is the executions a block needed at the
 * end: the threshold, or more where it rises with the translations held ({@code --translate on}).
 */
public record TranslationStats(boolean enabled, int threshold, int dueAtEnd, long made, long evicted, long declined,
                               long liveBytes, long nanosTranslating, long translatedInstructions) {
}
