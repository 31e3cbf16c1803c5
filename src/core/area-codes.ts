/**
 * North American area codes (NANP) with the main city each serves, for `search <city>` and for
 * showing where a number is. Not every area code is listed: an unlisted one that is well formed
 * is still searched at the carrier, which has the final word.
 */
export interface AreaCode {
  code: string;
  city: string;
  region: string;
  country: 'US' | 'CA';
}

const rows: Array<[string, string, string, 'US' | 'CA']> = [
  ['201', 'Jersey City', 'NJ', 'US'],
  ['202', 'Washington', 'DC', 'US'],
  ['203', 'New Haven', 'CT', 'US'],
  ['205', 'Birmingham', 'AL', 'US'],
  ['206', 'Seattle', 'WA', 'US'],
  ['212', 'New York', 'NY', 'US'],
  ['213', 'Los Angeles', 'CA', 'US'],
  ['214', 'Dallas', 'TX', 'US'],
  ['215', 'Philadelphia', 'PA', 'US'],
  ['216', 'Cleveland', 'OH', 'US'],
  ['225', 'Baton Rouge', 'LA', 'US'],
  ['301', 'Bethesda', 'MD', 'US'],
  ['302', 'Wilmington', 'DE', 'US'],
  ['303', 'Denver', 'CO', 'US'],
  ['305', 'Miami', 'FL', 'US'],
  ['310', 'Santa Monica', 'CA', 'US'],
  ['312', 'Chicago', 'IL', 'US'],
  ['313', 'Detroit', 'MI', 'US'],
  ['314', 'St. Louis', 'MO', 'US'],
  ['317', 'Indianapolis', 'IN', 'US'],
  ['323', 'Los Angeles', 'CA', 'US'],
  ['332', 'New York', 'NY', 'US'],
  ['347', 'New York', 'NY', 'US'],
  ['385', 'Salt Lake City', 'UT', 'US'],
  ['401', 'Providence', 'RI', 'US'],
  ['402', 'Omaha', 'NE', 'US'],
  ['404', 'Atlanta', 'GA', 'US'],
  ['405', 'Oklahoma City', 'OK', 'US'],
  ['406', 'Billings', 'MT', 'US'],
  ['407', 'Orlando', 'FL', 'US'],
  ['408', 'San Jose', 'CA', 'US'],
  ['410', 'Baltimore', 'MD', 'US'],
  ['412', 'Pittsburgh', 'PA', 'US'],
  ['414', 'Milwaukee', 'WI', 'US'],
  ['415', 'San Francisco', 'CA', 'US'],
  ['425', 'Bellevue', 'WA', 'US'],
  ['480', 'Scottsdale', 'AZ', 'US'],
  ['501', 'Little Rock', 'AR', 'US'],
  ['502', 'Louisville', 'KY', 'US'],
  ['503', 'Portland', 'OR', 'US'],
  ['504', 'New Orleans', 'LA', 'US'],
  ['505', 'Albuquerque', 'NM', 'US'],
  ['510', 'Oakland', 'CA', 'US'],
  ['512', 'Austin', 'TX', 'US'],
  ['513', 'Cincinnati', 'OH', 'US'],
  ['515', 'Des Moines', 'IA', 'US'],
  ['602', 'Phoenix', 'AZ', 'US'],
  ['612', 'Minneapolis', 'MN', 'US'],
  ['614', 'Columbus', 'OH', 'US'],
  ['615', 'Nashville', 'TN', 'US'],
  ['617', 'Boston', 'MA', 'US'],
  ['619', 'San Diego', 'CA', 'US'],
  ['628', 'San Francisco', 'CA', 'US'],
  ['646', 'New York', 'NY', 'US'],
  ['650', 'Palo Alto', 'CA', 'US'],
  ['651', 'St. Paul', 'MN', 'US'],
  ['678', 'Atlanta', 'GA', 'US'],
  ['702', 'Las Vegas', 'NV', 'US'],
  ['704', 'Charlotte', 'NC', 'US'],
  ['713', 'Houston', 'TX', 'US'],
  ['718', 'Brooklyn', 'NY', 'US'],
  ['720', 'Denver', 'CO', 'US'],
  ['737', 'Austin', 'TX', 'US'],
  ['773', 'Chicago', 'IL', 'US'],
  ['786', 'Miami', 'FL', 'US'],
  ['801', 'Salt Lake City', 'UT', 'US'],
  ['808', 'Honolulu', 'HI', 'US'],
  ['813', 'Tampa', 'FL', 'US'],
  ['816', 'Kansas City', 'MO', 'US'],
  ['817', 'Fort Worth', 'TX', 'US'],
  ['818', 'Burbank', 'CA', 'US'],
  ['832', 'Houston', 'TX', 'US'],
  ['858', 'San Diego', 'CA', 'US'],
  ['901', 'Memphis', 'TN', 'US'],
  ['907', 'Anchorage', 'AK', 'US'],
  ['916', 'Sacramento', 'CA', 'US'],
  ['917', 'New York', 'NY', 'US'],
  ['919', 'Raleigh', 'NC', 'US'],
  ['929', 'New York', 'NY', 'US'],
  ['971', 'Portland', 'OR', 'US'],
  ['972', 'Dallas', 'TX', 'US'],
  ['204', 'Winnipeg', 'MB', 'CA'],
  ['236', 'Vancouver', 'BC', 'CA'],
  ['250', 'Victoria', 'BC', 'CA'],
  ['289', 'Hamilton', 'ON', 'CA'],
  ['306', 'Regina', 'SK', 'CA'],
  ['343', 'Ottawa', 'ON', 'CA'],
  ['403', 'Calgary', 'AB', 'CA'],
  ['416', 'Toronto', 'ON', 'CA'],
  ['418', 'Quebec City', 'QC', 'CA'],
  ['438', 'Montreal', 'QC', 'CA'],
  ['506', 'Moncton', 'NB', 'CA'],
  ['514', 'Montreal', 'QC', 'CA'],
  ['519', 'London', 'ON', 'CA'],
  ['587', 'Calgary', 'AB', 'CA'],
  ['604', 'Vancouver', 'BC', 'CA'],
  ['613', 'Ottawa', 'ON', 'CA'],
  ['647', 'Toronto', 'ON', 'CA'],
  ['705', 'Sudbury', 'ON', 'CA'],
  ['709', "St. John's", 'NL', 'CA'],
  ['780', 'Edmonton', 'AB', 'CA'],
  ['782', 'Halifax', 'NS', 'CA'],
  ['819', 'Gatineau', 'QC', 'CA'],
  ['825', 'Edmonton', 'AB', 'CA'],
  ['902', 'Halifax', 'NS', 'CA'],
  ['905', 'Mississauga', 'ON', 'CA'],
];

/** Toll-free prefixes are non-geographic: valid for search, with no city. */
export const TOLL_FREE_CODES = ['800', '833', '844', '855', '866', '877', '888'] as const;

const byCode = new Map<string, AreaCode>(
  rows.map(([code, city, region, country]) => [code, { code, city, region, country }]),
);

export function lookupAreaCode(code: string): AreaCode | undefined {
  return byCode.get(code);
}

export function isTollFreeCode(code: string): boolean {
  return (TOLL_FREE_CODES as readonly string[]).includes(code);
}

/** NANP format: three digits, the first 2-9, not an N11 service code. */
export function isWellFormedAreaCode(code: string): boolean {
  return /^[2-9]\d{2}$/.test(code) && !/^[2-9]11$/.test(code);
}

function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/**
 * Finds the area codes of a city, optionally with its region: "San Francisco", "toronto",
 * "Portland, OR". The longest-listed first code is the city's main one.
 */
export function findAreaCodesByCity(query: string): AreaCode[] {
  const [cityPart, regionPart] = query.split(',').map((part) => fold(part));
  if (!cityPart) return [];
  return [...byCode.values()].filter(
    (entry) =>
      fold(entry.city) === cityPart &&
      (regionPart === undefined || regionPart === '' || fold(entry.region) === regionPart),
  );
}

export function allAreaCodes(): AreaCode[] {
  return [...byCode.values()];
}
