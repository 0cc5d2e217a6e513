// The text the generator's BPE merges are learned from: plain English written
// for this project, so that common words become single tokens in the small
// vocabulary of generated models.
#include "gen/vocab.h"

namespace dllm::gen {

const char* const kMergeCorpus = R"CORPUS(The old lighthouse stood at the end of the harbour, and every evening the keeper climbed the stairs to light the lamp.
He was a quiet man who liked the sound of the water and the smell of the sea. The people of the town said that he had
lived there for more than forty years, and that he knew every ship that came into the harbour by the shape of its sails.
One morning a small boat came in from the north. It was painted blue and white, and the man who sailed it was young and
tired. He asked the keeper if he could stay for a few days, because the wind was too strong and the sea was too high.
The keeper said yes, and they had tea together in the kitchen while the storm grew outside.

"Where are you going?" the keeper asked.
"I don't know yet," the young man said. "I wanted to see the islands in the south, but the weather has been bad all week."
"It will change," said the keeper. "It always does. You can't hurry the sea, and you shouldn't try."

They talked about ships and stars, about the towns along the coast and the people who lived in them. The young man
had read many books, and the keeper had seen many things, so there was always something new to say. When the storm
was over, the sky was clear and bright, and the water in the harbour was as still as glass. The young man thanked the
keeper, packed his things and went back to his boat. Before he left, he gave the keeper a book about the stars of the
southern sky. The keeper kept it on the table by the window for the rest of his life.

A language model reads text as a sequence of tokens. Each token is a piece of a word, a whole word, or a symbol such as
a comma or a new line. The model turns every token into a vector of numbers, and then it passes these vectors through
many layers. Some layers use attention, which lets each position look at the positions that came before it. Other
layers use a recurrent state, which is updated once for every token and keeps a summary of the past. The last layer
gives a score for every token in the vocabulary, and the next token is chosen from these scores.

When you write a program, you should keep it simple and easy to read. Give each function one job, and give it a name
that says what it does. Write tests that can fail, and run them often. If a test fails, read the message carefully
before you change the code. It is better to find a problem early than to find it after the program has been used by
many people. Good programs are written by people who are patient, careful and curious.

The weather report for today: in the morning there will be rain in the west and some sun in the east. In the afternoon
the wind will turn to the north and the temperature will fall to about 12 degrees. Tomorrow will be dry and cold, with
a light wind from the east. At night the sky will be clear, so you may see the stars and the moon.

Questions and answers:
What is the capital of France? The capital of France is Paris.
How many days are there in a week? There are 7 days in a week.
What colour is the sky on a clear day? It is blue.
Why do we need sleep? Sleep gives the body and the mind time to rest and to repair themselves.
Can you tell me a short story? Once upon a time there was a little cat who lived in a big house with a red door.
The cat liked to sit in the sun and watch the birds in the garden. Every day the birds sang, and every day the cat
listened, and that was the whole of the story, because the cat was happy and did not want anything more.

She said that they would meet again in the spring, when the trees were green and the days were long. He said that he
would wait for her by the river, under the old bridge where they had first met. They both knew that it was a promise
that would be hard to keep, but they made it anyway, because people who are in love often say things like that.

def main():
    numbers = [1, 2, 3, 4, 5]
    total = 0
    for number in numbers:
        total = total + number
    print("the total is", total)
    return total

The first thing to remember is that there is no single right way to learn. Some people learn best by reading, some by
listening and some by doing. What matters most is that you keep going, even when it is hard, and that you are not
afraid to make mistakes. Every mistake is a chance to learn something new about the world and about yourself.
)CORPUS";

}  // namespace dllm::gen
