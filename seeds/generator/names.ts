/**
 * Name lists for the fictional district. Every character is representable in Windows-1252
 * (the screener source is written in that encoding), including the accented names the
 * messiness tests look for (José, Zoë, María, Muñoz...).
 */
export const FIRST_F = [
  'Sofia', 'Isabella', 'Camila', 'Valentina', 'Mia', 'Emma', 'Olivia', 'Ava', 'Luna', 'Victoria',
  'Ximena', 'Natalie', 'Emily', 'Abigail', 'Chloe', 'Zoë', 'María', 'Sofía', 'Renée', 'Inés',
  'Lucía', 'Ana', 'Daniela', 'Andrea', 'Jasmine', 'Aaliyah', 'Maya', 'Leah', 'Hannah', 'Grace',
  'Mei', 'Linh', 'Priya', 'Aaliyah', 'Nia', 'Imani', 'Kayla', 'Jocelyn', 'Guadalupe', 'Citlali',
  'Angelina', 'Chloé', 'Elena', 'Gabriela', 'Hailey', 'Jade', 'Kimberly', 'Leilani', 'Nayeli', 'Ruby',
];
export const FIRST_M = [
  'Mateo', 'Santiago', 'Sebastian', 'Liam', 'Noah', 'Ethan', 'Daniel', 'Alexander', 'Julian', 'Leonardo',
  'José', 'Jesús', 'Ángel', 'Noé', 'Rubén', 'Andrés', 'Diego', 'Carlos', 'Luis', 'Miguel',
  'David', 'Gabriel', 'Isaac', 'Adrian', 'Aiden', 'Jayden', 'Elijah', 'Michael', 'James', 'Benjamin',
  'Minh', 'Arjun', 'Kenji', 'Darius', 'Malik', 'Jamal', 'Ezekiel', 'Emiliano', 'Joaquín', 'Oliver',
  'Lucas', 'Aaron', 'Brandon', 'Christopher', 'Dominic', 'Erick', 'Fernando', 'Giovanni', 'Ivan', 'Kevin',
];
export const LAST_BY_GROUP: Record<string, string[]> = {
  hispanic: [
    'Garcia', 'Hernandez', 'Lopez', 'Martinez', 'Gonzalez', 'Rodriguez', 'Perez', 'Sanchez', 'Ramirez', 'Flores',
    'Torres', 'Rivera', 'Gomez', 'Diaz', 'Cruz', 'Morales', 'Reyes', 'Gutierrez', 'Ortiz', 'Chavez',
    'Muñoz', 'Peña', 'Núñez', 'Ibáñez', 'Jiménez', 'Vásquez', 'Mendoza', 'Castillo', 'Romero', 'Alvarez',
  ],
  white: [
    'Smith', 'Johnson', 'Miller', 'Anderson', 'Taylor', 'Thomas', 'Moore', 'Martin', 'Thompson', 'White',
    'Clark', 'Lewis', 'Walker', 'Hall', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Baker',
    'Nelson', 'Carter', 'Mitchell', 'Roberts', 'Campbell', 'Parker', 'Evans', 'Edwards', 'Collins', 'Stewart',
  ],
  asian: [
    'Nguyen', 'Tran', 'Le', 'Pham', 'Chen', 'Wang', 'Li', 'Zhang', 'Liu', 'Wong',
    'Kim', 'Park', 'Lee', 'Choi', 'Patel', 'Singh', 'Shah', 'Kumar', 'Tanaka', 'Yamamoto',
  ],
  filipino: ['Santos', 'Reyes', 'Cruz', 'Bautista', 'Ocampo', 'Garcia', 'Mendoza', 'Aquino', 'Dela Cruz', 'Villanueva'],
  black: [
    'Williams', 'Johnson', 'Brown', 'Jones', 'Davis', 'Jackson', 'Harris', 'Robinson', 'Washington', 'Coleman',
    'Jenkins', 'Bryant', 'Alexander', 'Hayes', 'Simmons',
  ],
  other: ['Begay', 'Yazzie', 'Tsosie', 'Kealoha', 'Kahale', 'Fonoti', 'Tupou', 'Wilson', 'Morgan', 'Hughes'],
};
export const STAFF_LAST = [
  'Adams', 'Bell', 'Brooks', 'Castro', 'Diaz', 'Ellis', 'Fisher', 'Foster', 'Gray', 'Hayes',
  'Hughes', 'Jensen', 'Kelly', 'Lam', 'Medina', 'Murphy', 'Ng', 'Olson', 'Ortega', 'Price',
  'Quinn', 'Ramos', 'Reed', 'Ross', 'Russell', 'Salazar', 'Sullivan', 'Tanaka', 'Vega', 'Ward',
];
export const STAFF_FIRST = [
  'Karen', 'Laura', 'Michelle', 'Patricia', 'Rosa', 'Susan', 'Teresa', 'Angela', 'Monica', 'Julie',
  'Robert', 'Mark', 'Steven', 'Jorge', 'Paul', 'Eric', 'Brian', 'Anthony', 'Raúl', 'Thomas',
];
export const SCHOOL_NAMES = [
  'Cesar Chavez', 'Dolores Huerta', 'Redwood', 'Oak Grove', 'Sierra Vista', 'Mission', 'Valley View', 'Pacific',
  'Sequoia', 'Willow Creek', 'Rancho', 'Hillcrest', 'Lincoln', 'Roosevelt', 'Jefferson', 'Madison',
  'Sunnyside', 'Bayview', 'Manzanita', 'Cypress', 'Laurel', 'Monterey', 'Arroyo', 'El Camino',
  'Golden Gate', 'Mariposa', 'Vista Verde', 'Los Robles', 'Ocean View', 'Canyon', 'Fremont', 'Kennedy',
];
