"""Generates ``aujobs_auth/data/common_passwords.txt``, the bundled list of passwords
and password building blocks that registration, reset and change-password refuse.

No breach corpus can be downloaded where this runs, so the list is built here from
what is well known about real-world password choice: the most common passwords of
the published breach compilations, the words and names they are made of (with
Australian ones added), keyboard walks, and those bases with the usual affixes.
The checker in ``aujobs_auth.passwords`` also refuses, by rule, repeated and
sequential characters and passwords built from the user's email or the site name.

Run: ``uv run python services/auth/scripts/generate_common_passwords.py``
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "aujobs_auth" / "data" / "common_passwords.txt"

# The most common passwords of the big breach compilations (RockYou, Collection #1,
# the yearly "worst passwords" lists), most frequent first.
TOP = """
123456 password 123456789 12345678 12345 qwerty 1234567 111111 1234567890 123123
abc123 password1 1234 qwerty123 000000 iloveyou dragon sunshine princess letmein
654321 monkey 27653 1qaz2wsx 123321 qwertyuiop superman asdfghjkl 1q2w3e4r 121212
football baseball welcome 666666 7777777 1q2w3e 123qwe 555555 lovely 888888 donald
admin login master hello freedom whatever qazwsx trustno1 passw0rd starwars shadow
michael jennifer jordan hunter ashley bailey charlie 696969 access mustang 112233
batman zaq12wsx password123 passw0rd1 aa123456 killer soccer hockey ranger george
harley thomas robert daniel andrew michelle jessica buster tigger pepper summer
corvette taylor austin 1111 2000 yankees dallas matrix cheese computer joshua
amanda maggie nicole chelsea biteme matthew access14 yamaha 159753 987654321
11111111 00000000 123654 1234qwer qwer1234 q1w2e3r4 q1w2e3r4t5 1q2w3e4r5t
1q2w3e4r5t6y zxcvbnm asdfgh asdf qwert zxcvbn 147258369 741852963 159357 789456123
456789 123456a a123456 123456789a abc12345 abcd1234 1234abcd 12qwaszx qwe123
qweasdzxc qweasd asdasd asd123 zxc123 qaz123 1qazxsw2 !qaz2wsx !qaz@wsx 1qaz@wsx
password! password1! p@ssw0rd p@ssword pa$$word passwort motdepasse contrasena
senha parola wachtwoord salasana haslo 123abc abc123456 iloveyou1 iloveu loveyou
fuckyou fuckoff asshole bitch pussy cookie jordan23 michael1 superman1 batman1
princess1 sunshine1 monkey1 dragon1 shadow1 master1 football1 baseball1 soccer1
welcome1 welcome123 letmein1 admin123 admin1 administrator root toor changeme
changeit default guest user test test123 testing temp temp123 secret secret123
god love sex money freedom1 peace angel angel1 angels baby babygirl babyboy
blessed blessing flower flowers butterfly rainbow purple orange yellow silver
golden diamond crystal starlight hellokitty kitty kitten puppy doggy doggie
snoopy pokemon pikachu naruto sasuke goku vegeta minecraft fortnite roblox
zelda mario nintendo playstation xbox xbox360 ps4 gaming gamer warcraft
starcraft diablo halo counter lol123 league
qwerty1 qwerty12 qwerty1234 qwertyu qwertyui qwerty123456 asdf1234 asdfasdf
zxcvbnm1 1qaz 2wsx 3edc 4rfv qazwsxedc qazxswedc zaqxsw xsw2zaq1 1qaz2wsx3edc
mnbvcxz poiuytrewq lkjhgfdsa 0987654321 9876543210 asdfghjkl1 qwertyuiop1
letmein123 trustno11 iloveyou2 iloveyou123 ilovegod jesus jesus1 jesuschrist
christ christian faith grace heaven blessed1 godisgood hallelujah
liverpool arsenal chelsea1 manchester manutd barcelona realmadrid juventus
australia aussie sydney melbourne brisbane perth adelaide canberra hobart darwin
"""

# Words people build passwords from (besides the names and places below).
WORDS = """
about above access account action active admin adventure again agent alien alpha
amazing america angel animal anime answer apple april arrow artist asdf august
autumn avatar awesome baby bacon badboy ball banana bandit banker barbie barney
baseball basketball batman beach bear beautiful beauty beaver beer bella berry
best bigboy bigdaddy bigdog bird birthday biscuit black blackie blade blaster
blazer blessed blonde blood blossom blue blueberry bluebird bobby bonnie booboo
boomer boss boston bounce boxer brandy brave bravo bread breeze brother brown
bubble bubbles buddy buffalo bulldog bullet bunny burger business butter button
cactus cake camera camper canada candy captain carbon carlos carpet carrot
casino casper castle catch cat cats champion chance change charlie charm
cheese chelsea cherry chester chicago chicken chips chocolate christmas
cinnamon circle city classic clover coconut coffee college colour color
comet common computer cookie cool cooper copper corona cosmos cotton country
cowboy cowgirl crazy cream cricket crystal cupcake cutie daisy dakota dance
dancer danger darkness darling dean december delta demon denim desert design
destiny devil diamond dinosaur dolphin donkey doctor dollar dragon dream
dreamer driver duck dummy dust eagle earth easter eclipse eight electric
elephant elite emerald empire energy enigma enter escape eternity europe
evolution excalibur express fairy falcon family fantasy farmer fashion father
feather february fender ferrari fighter fire firebird fireman fish fishing
flash flight florida flower flying forest forever fortune freedom friday
friend friends frog frosty funny future galaxy game garden gemini genius
ghost giant ginger girl glitter global gold golden golf goodluck gorilla grace
grandma grandpa granite grape green guitar gunner guitar hammer happy happiness
harmony harvest hawk heart heather hello helpme hero hidden hiphop hobbit
holiday honda honey horse hotdog house hunter hurricane iceman icecream
infinity internet iron island jackpot january jasmine jelly jester jewel
joker journey jungle jupiter justice karate kawasaki killer king kingdom kiss
kisses knight koala lady laptop laser legend lemon leopard liberty light
lightning lily lion little lizard lobster london lonely lover lovely lucky
lunar magic magnet mama mango maple marine market mars marvel master matrix
maverick meadow mercedes mercury mermaid metal midnight milk miracle mirror
mission mister mobile mommy monday money monkey monster moon moonlight morning
mother motor mountain mouse music mustang mystery nature neptune network
newyork nickel night nightmare ninja nothing november number ocean october
office orange orchid oxford panda panther paradise paris parker party
passion password patrick peace peach peanut pearl pepper phantom phoenix
phone piano pickle pinky pirate pizza planet player please pluto poetry
pokemon polar popcorn poppy porsche power precious prince princess private
progress public puppy purple python queen quest rabbit racing radio rain
rainbow raven ready rebel red redneck reggae remember rescue river robot
rock rocket rockstar rose royal ruby runner russia sailor saturday saturn
school science scooter scorpion secret september serenity seven shadow shark
sheep shelby shine silver simple singer sister skate skater skippy sky
slayer smile smiley snake snow snowball snowman soccer soldier solution
sparkle sparky special spider spirit spring squirrel star stars starwars
steel stella sticky storm strawberry strong student sugar summer sunday
sunflower sunny sunset sunshine super superman surfer surfing sweet
sweetheart sweetie swimming system taco tango target teacher teddy tennis
thunder thursday tiger tigers titanic toyota tractor travel treasure
trouble truck tuesday turtle twilight unicorn united universe valentine
vampire velvet venus victory viking violet voodoo voyager warrior water
weather wednesday welcome whisky white wildcat william willow winner winter
wizard wolf wolfpack wonder work world wrestling yankee yellow yoga young
zebra zombie
office work job jobs career careers resume employer employee manager hiring
recruit recruiter recruitment interview salary payday workday worker
letme letmein trustme openup opensesame iamthebest imcool secure security
qwerty keyboard mypassword yourpassword newpassword oldpassword password
mypass pass word passcode passphrase pin login logon signin signon
"""

# Common first names in breach lists and in Australia.
NAMES = """
aaron abigail adam adrian aiden alan albert alex alexander alexandra alice
alicia alison amanda amber amelia amy andrea andrew angela angus anna annie
anthony april archie ashley ashton audrey austin ava bailey barbara ben
benjamin beth bethany betty beverly billy blake bob bonnie brad bradley
brandon brenda brendan brett brian brianna brittany brooke bruce bryan caleb
cameron carl carla carol caroline carter casey catherine charles charlie
charlotte chelsea cheryl chloe chris christian christina christine christopher
claire cody colin connor cooper craig crystal cynthia daisy dale daniel
danielle darren david dean deborah debbie denise dennis derek diana diane
dominic donald donna dylan edward eleanor elijah elizabeth ella ellie emily
emma eric erin ethan eva evelyn frank freya gabriel gary gavin george
georgia gerald grace graham grant gregory hailey hannah harper harrison harry
harvey hayden heather heidi helen henry holly hudson hugh hunter ian isaac
isabella isla jack jackson jacob jade jake james jamie jane janet jasmine jason
jasper jayden jeffrey jennifer jeremy jessica jesse jill joan joel john
johnny jonathan jordan joseph joshua joyce judith judy julia julian julie
justin karen kate katherine kathleen katie kayla keith kelly kenneth kevin
kimberly kyle laura lauren leah leo leon liam lily linda lisa logan louis
louise lucas lucy luke lachlan madison maria mark martin mary mason matilda
matthew max maxwell megan melissa mia michael michelle mikayla mitchell
molly nancy natalie nathan neil nicholas nicole noah oliver olivia oscar
paige pamela patricia patrick paul peter phillip phoebe rachel rebecca
riley robert robin ruby russell ryan samantha samuel sandra sarah scarlett
scott sean shane sharon shaun sienna simon sophia sophie stephanie stephen
steven summer susan tahlia tanya taylor teresa thomas tiffany timothy tom
tony tracy travis trevor tyler victoria vincent wayne william willow zac
zachary zara zoe bazza shazza davo robbo jonno thommo macca sharna kylie
bronte jarrah kirra narelle bruce sheila mick shane trent brodie
"""

# Australian words, places and sport.
AUSTRALIAN = """
australia australian aussie aussies straya oz ozzie downunder gday goodday
mate cobber fairdinkum crikey ripper bonza strewth arvo barbie bogan dunny
footy thongs ute servo esky brekkie avo maccas sanga snag stubby tinnie
kangaroo koala wombat wallaby emu dingo platypus echidna kookaburra cockatoo
galah magpie possum quokka tassiedevil crocodile goanna dropbear
vegemite lamington pavlova timtam meatpie anzac anzacday digger
sydney melbourne brisbane perth adelaide canberra hobart darwin cairns
townsville geelong ballarat bendigo newcastle wollongong goldcoast
sunshinecoast toowoomba launceston parramatta bondi manly cronulla
queensland victoria tasmania tassie newsouthwales westernaustralia
southaustralia northernterritory uluru outback thebush bushland billabong
footscray richmond collingwood essendon carlton hawthorn fremantle
westcoast stkilda northmelbourne portadelaide sydneyswans adelaidecrows
brisbanelions westernbulldogs goldcoastsuns gwsgiants
magpies tigers bombers blues hawks cats swans eagles dockers crows
lions suns giants saints demons dees pies kangaroos bulldogs doggies
broncos roosters rabbitohs storm panthers eels sharks dragons knights
cowboys raiders titans warriors seaeagles sealions dolphins wests
wallabies socceroos matildas boomers opals diamonds kookaburras
cricket rugby rugbyleague afl nrl soccer netball surfing surf surfer
holden commodore falcon monaro ford toyota hilux landcruiser
australiajobs aussiejobs aujobs ozjobs jobboard jobsearch seek
"""

# Keyboard walks and patterns that are not simple sequences.
WALKS = """
qwerty qwertyui qwertyuiop asdfgh asdfghjk asdfghjkl zxcvbn zxcvbnm
1qaz2wsx 1qaz2wsx3edc 1qaz2wsx3edc4rfv zaq12wsx zaq1zaq1 xsw2zaq1 2wsx3edc
qazwsx qazwsxedc qazwsxedcrfv qweasd qweasdzxc asdzxc qwaszx 12qwaszx
1q2w3e 1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6y 1q2w3e4r5t6y7u 1q2w3e4r5t6y7u8i9o0p
q1w2e3 q1w2e3r4 q1w2e3r4t5 q1w2e3r4t5y6 a1s2d3f4 z1x2c3v4 1a2s3d4f
qwer1234 1234qwer asdf1234 1234asdf zxcv1234 qwerasdf asdfqwer qwerasdfzxcv
poiuytrewq lkjhgfdsa mnbvcxz poiuyt lkjhgf mnbvcx 0p9o8i7u 0987poiu
qwertz qwertzuiop asdfghjklö azerty azertyuiop qsdfghjklm wxcvbn
147258 147258369 1472583690 159753 1597532486 159357 357159 753951 951753
741852 741852963 963852741 369258147 258456 852456 456852 147852 1478963
123654789 987456321 14789632 12369874 789654123 321654987
qazxsw edcvfr rfvtgb tgbyhn yhnujm ujmik, 1qazxsw2 2wsxcde3 3edcvfr4
!qaz2wsx !qaz@wsx #edc$rfv !@#$%^ !@#$%^&* !@#$%^&*() )(*&^%$#@!
1qw23e 1qw23er4 qweqwe asdasd zxczxc qweqweqwe 123qweasd 123qweasdzxc
qwe123qwe qwe123asd asd123zxc 1234qwerasdf 1234qwerasdfzxcv
"""

# Affixes people add to a base word to satisfy length and character rules.
SUFFIXES = [
    "1",
    "12",
    "123",
    "1234",
    "12345",
    "123456",
    "1234567",
    "12345678",
    "!",
    "!!",
    "1!",
    "123!",
    "@123",
    "#1",
    "01",
    "007",
    "69",
    "99",
    "00",
    "11",
    "22",
    "13",
    "21",
    "2020",
    "2021",
    "2022",
    "2023",
    "2024",
    "2025",
    "2026",
    "2027",
]
PREFIXES = ["my", "the", "i", "ilove", "iloveyou", "123", "1"]


def words(block: str) -> list[str]:
    return [w.strip().lower() for w in block.split() if w.strip()]


def main() -> None:
    entries: dict[str, None] = {}

    def add(word: str) -> None:
        if word and " " not in word:
            entries.setdefault(word, None)

    top, common_words = words(TOP), words(WORDS)
    names, australian, walks = words(NAMES), words(AUSTRALIAN), words(WALKS)
    for group in (top, walks, common_words, names, australian):
        for w in group:
            add(w)

    # Repeated and sequential digits and letters of every length people use.
    for d in "0123456789":
        for n in range(4, 17):
            add(d * n)
    for c in "abcdefghijklmnopqrstuvwxyz":
        for n in range(4, 13):
            add(c * n)
    digits = "1234567890" * 3
    for start in range(10):
        for n in range(4, 17):
            add(digits[start : start + n])
            add(digits[start : start + n][::-1])
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    for start in range(len(alphabet) - 3):
        for n in range(4, 13):
            if start + n <= len(alphabet):
                add(alphabet[start : start + n])
                add(alphabet[start : start + n][::-1])

    # Years and dates.
    for year in range(1940, 2031):
        add(str(year))
    for day in range(1, 32):
        for month in range(1, 13):
            for year in (1980, 1985, 1990, 1995, 2000):
                add(f"{day:02d}{month:02d}{year}")

    # The most common bases with the usual affixes, and doubled.
    bases = top[:100] + common_words[:50] + australian[:40] + names[:30]
    for base in bases:
        if not base.isalpha():
            continue
        for suffix in SUFFIXES:
            add(base + suffix)
        add(base + base)
        add(base.capitalize() + "1")
    for base in top[:60]:
        if base.isalpha():
            for prefix in PREFIXES:
                add(prefix + base)

    OUT.parent.mkdir(parents=True, exist_ok=True)
    header = (
        "# Common and breached-looking passwords and password building blocks, one per line,\n"
        "# lower case. Generated by services/auth/scripts/generate_common_passwords.py.\n"
    )
    OUT.write_text(header + "\n".join(entries) + "\n", encoding="utf-8")
    print(f"{len(entries)} entries -> {OUT}")


if __name__ == "__main__":
    main()
