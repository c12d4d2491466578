package io.corral.cli;

import io.corral.api.SamplingParams;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/** The sampling flags, shared by the commands that generate. */
final class SamplingOptions {

    @Option(names = "--temperature", description = "Randomness; 0 = greedy (default ${DEFAULT-VALUE}).", defaultValue = "0.8")
    double temperature;

    @Option(names = "--top-p", description = "Nucleus sampling threshold (default ${DEFAULT-VALUE}).", defaultValue = "0.95")
    double topP;

    @Option(names = "--top-k", description = "Sample among the k most likely tokens; 0 = off (default ${DEFAULT-VALUE}).", defaultValue = "40")
    int topK;

    @Option(names = "--min-p", description = "Drop tokens below this fraction of the best one (default ${DEFAULT-VALUE}).", defaultValue = "0.05")
    double minP;

    @Option(names = "--repeat-penalty", description = "Penalty for repeated tokens; 1 = off (default ${DEFAULT-VALUE}).", defaultValue = "1.0")
    double repeatPenalty;

    @Option(names = "--repeat-last-n", description = "How many recent tokens the penalties look at; -1 = all (default ${DEFAULT-VALUE}).", defaultValue = "64")
    int repeatLastN;

    @Option(names = "--presence-penalty", description = "OpenAI-style presence penalty (default ${DEFAULT-VALUE}).", defaultValue = "0")
    double presencePenalty;

    @Option(names = "--frequency-penalty", description = "OpenAI-style frequency penalty (default ${DEFAULT-VALUE}).", defaultValue = "0")
    double frequencyPenalty;

    @Option(names = "--seed", description = "Random seed, for repeatable sampling.")
    Long seed;

    @Option(names = {"-n", "--max-tokens"}, description = "Most tokens to generate; 0 = until the model stops (default ${DEFAULT-VALUE}).", defaultValue = "0")
    int maxTokens;

    @Option(names = "--stop", description = "Stop before this text (repeatable).")
    List<String> stop = new ArrayList<>();

    SamplingParams toParams() {
        return SamplingParams.builder().temperature(temperature).topP(topP).topK(topK).minP(minP)
                .repeatPenalty(repeatPenalty).repeatLastN(repeatLastN).presencePenalty(presencePenalty)
                .frequencyPenalty(frequencyPenalty).seed(seed).maxTokens(maxTokens).stop(stop).build();
    }
}
