/**
 * Words that must never be in a codename (DESIGN.md: "words that cannot hurt"). A survivor
 * writes the codename down and keeps it; none of its words may recall what happened to her or
 * him. Kept in the tests, not shipped: test/unit/codename.test.ts fails if the word list holds
 * any of these, and requires every BIP39 word the list dropped to be named here or in
 * RETIRED_FOR_OTHER_REASONS.
 */
export const DENY_LIST: Record<string, readonly string[]> = {
  violence: [
    'abuse', 'abused', 'abuser', 'assault', 'attack', 'batter', 'battle', 'beat', 'beating', 'bite', 'blast', 'bleed', 'blow', 'bomb', 'brawl',
    'bruise', 'brutal', 'burn', 'choke', 'clash', 'combat', 'crash', 'crush', 'cut', 'damage', 'destroy', 'drown', 'execute', 'explode', 'fight',
    'fist', 'force', 'fury', 'grab', 'harm', 'hit', 'hurt', 'inflict', 'injure', 'kick', 'kill', 'lash', 'maim', 'murder', 'pinch', 'punch',
    'riot', 'ruin', 'scar', 'shove', 'siege', 'slam', 'slap', 'slash', 'smash', 'spank', 'squeeze', 'stab', 'strangle', 'strike', 'tackle',
    'torture', 'violent', 'war', 'warfare', 'wound', 'wreck', 'wrestle', 'acid', 'stove', 'fire', 'flame', 'torch', 'furnace', 'smoke', 'gas',
    'chase', 'hunt', 'crawl', 'crouch', 'trap', 'cage', 'bind', 'tie', 'rope', 'chain', 'whip', 'belt', 'strap', 'cane', 'paddle', 'push', 'clutch',
    'hold', 'catch', 'target', 'enemy', 'rival', 'rebel', 'soldier', 'warrior', 'army', 'armed', 'armor', 'bunker', 'veteran', 'enlist', 'shoot',
    'trigger', 'destroy', 'debris', 'tornado', 'crack', 'broken', 'break', 'smother', 'throttle', 'massacre', 'slaughter', 'bloodshed', 'revenge',
  ],
  weapon: [
    'weapon', 'gun', 'pistol', 'rifle', 'bullet', 'cannon', 'knife', 'blade', 'razor', 'sword', 'dagger', 'spear', 'arrow', 'axe', 'hammer',
    'scissors', 'spike', 'grenade', 'missile', 'ammo', 'shotgun', 'bayonet', 'machete', 'baton', 'tank', 'bomber', 'sniper',
  ],
  sexuality: [
    'sex', 'sexy', 'kiss', 'love', 'lover', 'romance', 'affair', 'flirt', 'seduce', 'lust', 'desire', 'naked', 'nude', 'strip', 'porn', 'erotic',
    'embrace', 'fondle', 'grope', 'touch', 'virgin', 'purity', 'wink', 'blush', 'tease', 'date', 'dating', 'marriage', 'wedding', 'divorce',
    'honeymoon', 'bed', 'bedroom', 'cherry', 'melon', 'peach', 'shaft', 'screw', 'rack', 'hole', 'bottom', 'behind', 'ride', 'horn', 'horny',
    'wet', 'hard', 'excite', 'exotic', 'fantasy', 'satisfy', 'attract', 'doll', 'kitten', 'pet', 'dress', 'skirt', 'blouse', 'gown', 'lingerie',
    'bikini', 'massage', 'escort', 'brothel', 'prostitute', 'whore', 'slut', 'rape', 'rapist', 'molest', 'incest', 'pervert', 'lewd', 'fetish',
    'adult', 'female', 'male', 'gaze', 'glare', 'stare', 'follow', 'stalk', 'swallow', 'clap', 'pregnant', 'abortion', 'condom', 'unveil', 'private',
  ],
  body: [
    'body', 'arm', 'ankle', 'blood', 'bone', 'brain', 'breast', 'butt', 'cheek', 'chest', 'chin', 'elbow', 'eye', 'eyebrow', 'face', 'finger',
    'flesh', 'foot', 'hair', 'hand', 'head', 'heart', 'hip', 'kidney', 'knee', 'leg', 'limb', 'lip', 'liver', 'lung', 'mouth', 'muscle', 'neck',
    'nerve', 'nose', 'organ', 'rib', 'shoulder', 'skin', 'skull', 'stomach', 'thigh', 'throat', 'thumb', 'toe', 'tongue', 'tooth', 'wrist',
    'tissue', 'pulse', 'birth', 'womb', 'belly', 'navel', 'pupil', 'claw', 'tattoo', 'fat', 'slim', 'slender', 'skinny', 'ugly', 'pretty', 'beauty',
    'cute', 'height', 'weight', 'naked', 'sweat', 'tear', 'spit', 'toilet', 'flush', 'fitness', 'diet', 'digit', 'whisker', 'freckle',
  ],
  crime: [
    'crime', 'criminal', 'illegal', 'prison', 'jail', 'inmate', 'arrest', 'police', 'sheriff', 'suspect', 'witness', 'evidence', 'lawsuit',
    'penalty', 'trial', 'judge', 'court', 'accuse', 'guilt', 'guilty', 'innocent', 'steal', 'theft', 'thief', 'rob', 'robber', 'fraud', 'scam',
    'cheat', 'liar', 'betray', 'trick', 'scheme', 'spy', 'smuggle', 'kidnap', 'hostage', 'ransom', 'blackmail', 'bribe', 'gang', 'mafia',
    'patrol', 'guard', 'deputy', 'law', 'legal', 'sentence', 'convict', 'outlaw', 'stalker', 'secret', 'expose', 'monitor', 'track', 'camera',
    'photo', 'video', 'snapshot', 'keyhole', 'steel', 'charge', 'caught',
  ],
  fear: [
    'fear', 'afraid', 'scare', 'scary', 'terror', 'horror', 'dread', 'panic', 'alarm', 'anxiety', 'danger', 'hazard', 'risk', 'threat', 'shock',
    'shiver', 'tremble', 'nightmare', 'ghost', 'monster', 'demon', 'devil', 'haunt', 'creep', 'creepy', 'shadow', 'gloom', 'bleak', 'despair',
    'siren', 'alone', 'lonely', 'isolate', 'escape', 'flee', 'exile', 'vanish', 'rescue', 'hidden', 'hide', 'silent', 'silence', 'trouble',
    'worry', 'grief', 'misery', 'tragic', 'fatal', 'demise', 'death', 'dead', 'die', 'grave', 'coffin', 'funeral', 'bury', 'corpse', 'skeleton',
    'expire', 'regret', 'sad', 'sadness', 'sorry', 'cry', 'unhappy', 'upset', 'struggle', 'suffer', 'burden', 'chaos', 'crazy', 'insane', 'mad',
    'lost', 'alien', 'dragon', 'clown', 'alley', 'dark', 'abandon', 'gasp',
  ],
  family: [
    'family', 'mother', 'father', 'mom', 'mum', 'dad', 'parent', 'brother', 'sister', 'sibling', 'son', 'daughter', 'husband', 'wife', 'uncle',
    'aunt', 'cousin', 'nephew', 'niece', 'grandpa', 'grandma', 'baby', 'child', 'kid', 'infant', 'toddler', 'orphan', 'twin', 'bride', 'groom',
    'widow', 'stepdad', 'stepmom', 'foster', 'cradle', 'elder', 'couple', 'bachelor', 'boy', 'girl', 'man', 'woman', 'lady', 'maid', 'young',
    'youth', 'minor', 'actress', 'boss', 'master', 'owner', 'coach', 'captain', 'chief', 'servant', 'slave',
  ],
  illness: [
    'ill', 'illness', 'sick', 'disease', 'disorder', 'virus', 'fever', 'asthma', 'chronic', 'symptom', 'cancer', 'tumor', 'infect', 'plague',
    'injury', 'wound', 'pain', 'ache', 'hospital', 'clinic', 'doctor', 'nurse', 'dentist', 'patient', 'pill', 'dose', 'inject', 'needle',
    'immune', 'dizzy', 'faint', 'blind', 'deaf', 'lame', 'fatigue', 'exhaust', 'tired', 'vomit', 'mosquito', 'stroke', 'coma', 'therapy',
    'depress', 'suicide', 'addict', 'alcohol', 'drunk', 'drug', 'wine', 'beer', 'drink', 'bar', 'tobacco', 'cigar', 'casino', 'lottery', 'gamble',
  ],
  insult: [
    'dumb', 'stupid', 'idiot', 'fool', 'naive', 'lazy', 'nasty', 'rude', 'cruel', 'vicious', 'evil', 'mean', 'awful', 'awkward', 'weird', 'silly',
    'useless', 'worthless', 'cheap', 'dirt', 'dirty', 'trash', 'garbage', 'junk', 'waste', 'used', 'spoil', 'damage', 'shame', 'disgrace',
    'peasant', 'dwarf', 'pig', 'dog', 'donkey', 'monkey', 'gorilla', 'cow', 'owl', 'buffalo', 'mule', 'weasel', 'rat', 'snake', 'worm', 'fox',
    'bitch', 'coon', 'spic', 'raccoon', 'spice', 'hoe', 'tart', 'chick', 'broad', 'pansy', 'wrong', 'fault', 'blame', 'shy', 'weak', 'fragile',
  ],
  predator: ['wolf', 'tiger', 'lion', 'leopard', 'panther', 'jaguar', 'hawk', 'coyote', 'shark', 'hyena', 'vulture', 'spider', 'scorpion', 'wasp', 'raven', 'crow', 'bat', 'lizard', 'sting'],
  coercion: [
    'obey', 'oblige', 'submit', 'control', 'power', 'demand', 'enforce', 'impose', 'mandate', 'force', 'convince', 'deny', 'denial', 'refuse',
    'reject', 'neglect', 'ignore', 'dismiss', 'behave', 'mercy', 'excuse', 'moral', 'resist', 'retreat', 'defy', 'defense', 'argue', 'anger',
    'angry', 'jealous', 'unfair', 'swear', 'frown', 'harsh', 'rough', 'bitter', 'poverty',
  ],
  religion: ['god', 'goddess', 'gospel', 'faith', 'bless', 'soul', 'spirit', 'miracle', 'ritual', 'pray', 'church', 'temple', 'idol', 'sin', 'hell', 'heaven', 'pork', 'bacon', 'sausage', 'beef', 'meat'],
};

/**
 * BIP39 words the list dropped although they name no harm: hard to spell for a survivor who
 * reads English as a second language, spelt differently in British English (Pakistan's), a
 * proper noun, or one sound away from a word of harm.
 */
export const RETIRED_FOR_OTHER_REASONS: Record<string, readonly string[]> = {
  'hard to spell': ['acoustic', 'broccoli', 'business', 'ceiling', 'cinnamon', 'column', 'february', 'genuine', 'guitar', 'leisure', 'muscle', 'physical', 'pigeon', 'receive', 'rhythm', 'squirrel', 'tortoise', 'vacuum', 'exhibit', 'spawn', 'sniff'],
  'spelt differently in British English': ['armor', 'artefact', 'catalog', 'color', 'favorite', 'flavor', 'harbor', 'humor', 'labor', 'license', 'odor', 'practice', 'program', 'vapor'],
  'proper noun': ['dutch', 'latin', 'olympic', 'satoshi', 'congress'],
  'sounds like another word': ['pair', 'piece', 'write', 'idle', 'grape', 'skill', 'nut'],
  'near harm': ['accident', 'nuclear', 'crowd', 'salon', 'gossip', 'grunt', 'hood', 'mask', 'race'],
};
