"""Word lists for the name and address heuristics in ``pii.py`` (hand-written, deliberately small)."""

from __future__ import annotations

# Common given names across the languages watchkeeper users write in. A hint, not a gazetteer:
# names not listed are still found through context cues ("my name is", "Mr.", "Name:").
FIRST_NAMES = frozenset("""
aaron abby abigail adam adrian agnes ahmed aidan aiden alan albert alberto alejandro aleksandra alex alexander
alexandra alexis alfred ali alice alicia alina alma amanda amber amelia amy ana andrea andreas andrew andrzej
angela angelo anita ann anna anne annette anthony antonio anton arne arthur astrid aurora barbara beatriz ben
benjamin bernard berta bertram beth betty bill birgit bjorn björn bob bogdan brandon brenda brian bridget bruno
camille carl carla carlos carmen carol caroline catherine charles charlotte chen chris christian christina
christine christopher claire clara claudia colin connor craig daniel daniela danielle david dawn debbie deborah
denis dennis diana diego dmitri dominik donald donna doris dorothy douglas duncan dylan edward elena elias elin
elisa elizabeth ella ellen elsa emil emilia emilie emily emma enrique eric erik erika ernst eva evelyn ewa fabian
felix fernando filip finn fiona florian frances francesca francesco francis frank franz freya frida fred
frederick gabriel gabriela gary george georg gerald gerhard gianni gina giorgio giovanni giulia giuseppe gloria
gordon grace greg gregory gunnar gustav hana hannah hans harald harry heather heidi heinz helen helena helga
henrik henry hugo ian ida ilse ingrid irene iris isabel isabella isak ivan jack jacob jake james jan jana jane
janet janina jasmine jason javier jean jeffrey jennifer jens jeremy jerzy jessica jim joan joanna joe johan
johann johanna john jonas jonathan jordan jorge jose josef joseph joshua juan judith julia julian julie justin
kaja kamil karen karin karl kasia kate katarina katarzyna katherine kathleen kathryn katie keith kelly kenneth
kevin kim kristian kristin krisztina krzysztof kurt lara larry lars laura lauren leah lena leo leon leonardo
lily linda lisa liam lorenzo lori louis louise lucas lucia lucy luis luka lukas luke lydia magda magnus
malgorzata marco marcus margaret maria marian marie marina mario marion mark marta martin mary mateusz matej
mathias matteo matthew max maria megan melissa mia michael michal michelle miguel mikael mike milan milena
miriam mohammed monika nancy natalia natasha nathan nicholas nicole niels nikola nils nina noah noelle nora
olga oliver olivia oscar oskar otto pablo pamela patricia patrick paul paula pauline pavel pedro per peter petra
philip pierre piotr rachel rafael ralph ramon raymond rebecca renata richard rita robert roberto robin roger
roman ronald rosa ruby russell ruth ryan sabine sally samantha samuel sandra sara sarah scott sean sebastian
sergei sharon simon simone sofia sonia sophie stefan stefano stephanie stephen steven susan svea sven tamara
tanja teresa terry thomas tim timothy tina tobias todd tom tomas tomasz tony tosh tracy ulla ursula valentina
vanessa vera veronica victor viktor vincent violet vitoria walter wanda wendy william wojciech yasmin yusuf
yvonne zofia zoe zsofia zoltan
""".split())

# Capitalised words that start sentences or name things but are not people.
NOT_NAMES = frozenset("""
sure certainly absolutely sorry great well alright of course indeed noted understood done
a an the this that these those i my your our their his her its we you they he she it and or but if then so
hello hi dear thanks thank please yes no ok okay monday tuesday wednesday thursday friday saturday sunday
january february march april may june july august september october november december today tomorrow
street st avenue ave road rd lane drive apt suite unit box city county state country north south east west
new old great united kingdom republic university hospital bank company inc ltd llc corp group team office
mr mrs ms dr prof sir madam what where when why how who which there here after before since during about
also just only from with without into onto for of on in at by to as is are was were be been have has had do
does did will would can could should may might must shall not name address phone email number card account
""".split())

# Words that head "Label: value" lines; a capitalised one before a colon is not a speaker's name.
LABEL_WORDS = frozenset("""
note subject address phone email mail date time re fw fwd to from cc bcc name title summary question answer q a
user assistant system input output example warning error tip step total status type id ref reference location
description comment comments update result results response request reason notes details info information
message body price cost amount order item product category source label value key format language version
""".split())

# Street-type words, whole or as the end of a compound ("Fagradalsbraut", "Rooseveltlaan").
STREET_WORDS = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|place|pl|square|sq|terrace|way|"
    "parkway|pkwy|circle|cir|highway|hwy|trail|close|crescent|gardens|grove|mews|row|walk|hill|heights|park|"
    "gateway|cliffs?|crossing|junction|loop|pass|path|pike|plaza|point|ridge|run|view|vista|alley|bypass"
)
STREET_SUFFIXES = (
    "straße|strasse|str\\.|stræde|weg|gasse|allee|platz|ring|damm|laan|straat|gracht|plein|kade|singel|vej|gade|vænget|"
    "gata|gatan|gränd|vägen|väg|veien|vegen|gate|stien|tie|katu|kuja|polku|tanhua|raitti|braut|vegur|stræti|gata|"
    "utca|út|ulica|aleja|ulice|třída|náměstí|cesta|ulica|trg|tér|tee|iela|gatve|prospekt"
)
STREET_PREFIXES = "avda\\.|piazzetta|rue|avenue|av\\.|boulevard|bd|chemin|allée|place|via|viale|piazza|corso|calle|avenida|rua|travessa|praça|ul\\.|trg|plac|aleja"
