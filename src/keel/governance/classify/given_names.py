"""Common given names, for finding people in sampled values.

Why a list and not a model: a model large enough to tag names well (spaCy, a
transformer) is a large dependency with weights to download, while what keel needs
is a signal over a sample of values ("do a fair share of these mention a person?"),
which a list of the most frequent given names gives cheaply and predictably.

Source of the facts: the most frequent given names in the US Social Security
Administration's published baby-name counts and the 1990 US Census given-name
frequency lists (both public domain), plus frequent given names of other large
populations (Hispanic, Indian, Chinese, Vietnamese, Nigerian, German, French,
Nordic) from public name-frequency statistics. Words that are more often something
else in business data (months, virtues, places, verbs: May, June, Will, Grant, Chase,
Hope, Austin, Jordan, Page, Lane, Mark, Bill, Sky, Summer, ...) are deliberately left
out: their absence costs little, since a column is judged over many values.
"""

from __future__ import annotations

from keel.governance.classify.vocab import words

GIVEN_NAMES: frozenset[str] = words(
    "aaron abigail adam adrian ahmed aisha alan albert alberto alejandro alex alexander "
    "alexandra alexis alice alicia alison allison alvaro amanda amber amelia amit amy "
    "ana anaya andre andrea andreas andrew andy angela angelica anita ann anna anne "
    "annette anthony antonio arjun arthur ashley audrey barbara beatriz becky ben "
    "benjamin bernard beth betty beverly bianca bob bobby bonnie brad bradley brandon "
    "brenda brent brett brian brittany bruce bryan caitlin camila carl carla carlos "
    "carmen carol caroline carolyn carrie catherine cecilia chad charles charlotte "
    "cheryl chloe chris christian christina christine christopher cindy claire clara "
    "claudia colin connor craig cristina crystal cynthia daniel daniela danielle darren "
    "david deborah debra denise dennis derek diana diane diego dimitri dmitri dominic "
    "donald donna doris dorothy douglas duc dylan ebony eduardo edward elaine elena eli "
    "elijah elizabeth ella ellen emily emma eric erica erik erin ernest esther ethan "
    "eugene eva evan evelyn fatima felipe fernando fiona francesca francis francisco "
    "gabriel gabriela gary gavin george gerald gina giovanni giulia gloria gregory greta "
    "guillermo hannah hans harold harry heather heidi helen henry hiroshi hugo ian "
    "ingrid irene isaac isabel isabella ivan jack jacob jacqueline james jamie jane "
    "janet janice jason javier jeffrey jennifer jenny jeremy jerry jesse jessica jesus "
    "jill joan joanna joe joel johan johanna john jonathan jorge jose joseph joshua "
    "joyce juan judith judy julia julian julie justin kai karen karin katherine kathleen "
    "kathryn kathy katie kayla keith kelly ken kenji kenneth kevin kim kimberly klaus "
    "kyle lakshmi larry laura lauren leah leo leon leonardo lillian linda lisa liam "
    "logan lois lori louis lucas lucia lucy luis luke lydia madeline magnus manuel "
    "marcus margaret maria mariana marie marilyn marina mario marta martha martin mary "
    "matteo matthew maxwell megan mei melissa mia michael michelle miguel mikhail "
    "mohamed mohammed monica nancy naomi natalia natalie nathan neha nicholas nicole "
    "nikhil nina noah nora olga olivia omar oscar pablo pamela patricia patrick paul "
    "paula pedro peter philip phillip pierre priya rachel rafael rahul rajesh ralph "
    "ramon randy raul raymond rebecca regina rene ricardo richard rita robert roberto "
    "robin roger ronald rosa ruth ryan sabrina samantha samuel sandra sara sarah scott "
    "sean sebastian sergei sergio shannon sharon shawn sheila shirley simon sofia sophia "
    "sophie stefan stephanie stephen steven susan suzanne sven tamara tanya teresa terry "
    "theresa thomas timothy tina todd tom tomas tony tracy tyler valentina vanessa vera "
    "veronica victor vikram vincent walter wayne wei wendy william xavier yan yasmin "
    "yuki yusuf zachary zoe adebayo chinedu ngozi oluwaseun thanh minh huong linh jun "
    "hao xin ying ravi anil sunita deepak pooja rohan ananya sanjay vijay wolfgang "
    "jurgen dieter ursula francois camille mathieu elodie ingrid lars nils astrid freya "
    "olamide"
)
